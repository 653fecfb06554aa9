"""Receivers that turn framework events into audit rows. No business rules here."""

from __future__ import annotations

from aidcases import services


def on_login(sender, request, user, **kwargs) -> None:
    services.user_record_login(user=user)


def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        services.user_record_logout(user=user)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    services.user_record_login_failed(username=str(credentials.get("username", "")))


def on_post_migrate(sender, **kwargs) -> None:
    # Runs once per app; the last app's run sees every permission created.
    from aidcases.roles import sync_role_groups

    sync_role_groups()
