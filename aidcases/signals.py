"""Receivers that turn framework events into audit rows. No business rules here."""

from __future__ import annotations

from django.conf import settings

from aidcases import services
from aidcases.models import User
from aidcases.pii import keyed_digest


def on_login(sender, request, user, **kwargs) -> None:
    services.user_record_login(user=user)


def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.user_record_logout(user=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.user_record_login_failed(username=str(credentials.get("username", "")))


def axes_username(request, credentials=None) -> str:
    """The name django-axes counts failed sign-ins under (AXES_USERNAME_CALLABLE): the account
    name when it is one, else a keyed hash of what was typed — people type their password into
    the name field, and the lockout tables must not keep it. Lockouts still count per name."""
    field = settings.AXES_USERNAME_FORM_FIELD
    typed = (credentials or {}).get(field) if credentials else None
    if typed is None and request is not None:
        typed = getattr(request, "POST", {}).get(field)
    typed = str(typed or "")
    if not typed or User.objects.filter(username=typed).exists():
        return typed
    return "unknown-" + keyed_digest("axes-username", typed, 16)


def on_post_migrate(sender, **kwargs) -> None:
    # Runs once per app; the last app's run sees every permission created.
    from aidcases.roles import sync_role_groups

    sync_role_groups()
