"""Double-submitted money forms are harmless: each form carries a one-time token, and the
service it calls claims the token inside its own transaction (`once`). The same token a
second time returns what the first submission made, writing nothing.

Two submissions that arrive together take turns on the key's UNIQUE index: the second
waits for the first to commit and then finds its claim (or, if the first failed and
rolled back, makes the write itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext as _

from aidcases.models import User
from disbursements.models import SubmitKey

__all__ = ["once"]

M = TypeVar("M", bound=models.Model)


def once(
    *,
    key: str | None,
    acting_user: User,
    action: str,
    model: type[M],
    write: Callable[[], M],
) -> M:
    """Run `write` (inside the caller's transaction) unless `key` was already used for
    `action`; then return the object the first run made. No key: just write."""
    if not key:
        return write()
    key = str(key)[:80]
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the caller intact
            claim = SubmitKey.objects.create(key=key, user=acting_user, action=action)
    except IntegrityError:
        done = SubmitKey.objects.get(key=key)
        if done.user_id != acting_user.pk or done.action != action or done.object_id is None:
            # another user's or another form's token: not this submission's to answer
            raise ValidationError(
                _("表单已失效，请刷新页面后重新提交。"), code="stale_form"
            ) from None
        return model._default_manager.get(pk=done.object_id)
    made = write()
    claim.object_id = made.pk
    claim.save(update_fields=["object_id"])
    return made
