"""The notification centre's writes, and sending reminders at most once.

A reminder is claimed by its key (`ReminderClaim`, unique) with one
INSERT … ON CONFLICT DO NOTHING RETURNING in the same transaction that writes its
notifications and the run's audit row: a rerun, a retry after a crash or a second worker
running at the same moment gets nothing back for a key already taken (PostgreSQL makes
the second insert of a key wait for the first transaction and then skip it), so it sends
nothing twice — no check-then-write. Emails go out after the commit, once per
notification whose recipient has an address: a failed email is logged, never re-sent
by a rerun (at most once, like the notification).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from aidcases import reminders
from aidcases.audit import audit_log
from aidcases.models import Notification, ReminderClaim, User
from aidcases.verbs import register_verbs

logger = logging.getLogger(__name__)

register_verbs({"reminder.send": gettext_lazy("发送提醒")})


@dataclass(frozen=True)
class ReminderOutcome:
    reminder: reminders.Reminder
    # sent by this run (or, in a dry run, would be); False: already sent before
    sent: bool


def reminder_claim(*, keys: list[str]) -> set[str]:
    """Claim `keys`; return those this call took (not taken before). One statement. Call it
    inside the transaction that does what the claim is for: a rollback frees the keys."""
    if not keys:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO aidcases_reminderclaim (key, claimed_at)"
            " SELECT DISTINCT k, now() FROM unnest(%s::varchar[]) AS k"
            " ON CONFLICT (key) DO NOTHING RETURNING key",
            [list(keys)],
        )
        return {row[0] for row in cursor.fetchall()}


def notifications_create(
    *, kind: str, reminder_list: list[reminders.Reminder]
) -> list[Notification]:
    """One notification per recipient of each reminder (one INSERT), emailed after commit.
    Called by `reminders_send` inside its transaction."""
    now = timezone.now()
    rows = [
        Notification(
            recipient=user,
            kind=kind,
            title=r.title[:200],
            body=r.body,
            link=r.link[:300],
            created_at=now,
        )
        for r in reminder_list
        for user in r.recipients
    ]
    made = Notification.objects.bulk_create(rows)
    mails = [_email(n) for n in made if n.recipient.email]
    if mails:
        transaction.on_commit(lambda: _send_emails(mails))
    return made


def _email(notification: Notification) -> EmailMessage:
    link = notification.link
    base = getattr(settings, "SITE_URL", "")
    text = notification.body
    if link:
        text += f"\n\n详情：{base}{link}" if base else f"\n\n详情请登录系统查看：{link}"
    return EmailMessage(
        subject=f"【帮扶对象管理系统】{notification.title}",
        body=text.strip(),
        to=[notification.recipient.email],
    )


def _send_emails(mails: list[EmailMessage]) -> None:
    try:
        get_connection().send_messages(mails)
    except Exception:  # the notifications are committed; an email is a courtesy copy
        logger.exception("sending %d reminder emails failed", len(mails))


def reminders_send(
    *,
    acting_user: User | None,
    kind: str,
    plan: reminders.Plan,
    dry_run: bool = False,
) -> list[ReminderOutcome]:
    """Send the plan's reminders not sent before. `dry_run` writes nothing and tells which
    would be sent (by the claims already taken; one query). Constant queries whatever the
    number of reminders: one claim INSERT, one notification INSERT, one audit row."""
    keys = [r.key for r in plan.reminders]
    if dry_run:
        taken = set(ReminderClaim.objects.filter(key__in=keys).values_list("key", flat=True))
        return [ReminderOutcome(r, r.key not in taken) for r in plan.reminders]
    with transaction.atomic():
        claimed = reminder_claim(keys=keys)
        sent = [r for r in plan.reminders if r.key in claimed]
        made = notifications_create(kind=kind, reminder_list=sent)
        if sent:
            audit_log(
                actor=acting_user,
                verb="reminder.send",
                details={
                    "kind": kind,
                    "period": plan.period,
                    "reminders": len(sent),
                    "notifications": len(made),
                },
            )
    return [ReminderOutcome(r, r.key in claimed) for r in plan.reminders]


def reminders_run(
    *,
    acting_user: User | None,
    kind: str,
    today: date | None = None,
    quarter: str | None = None,
    stage: str | None = None,
    dry_run: bool = False,
) -> tuple[reminders.Plan, list[ReminderOutcome]]:
    """What the beat task and `send_reminders` run: the kind's plan for today (or the
    quarter and stage given), then `reminders_send`."""
    plan = reminders.plan(kind, today=today or timezone.localdate(), quarter=quarter, stage=stage)
    return plan, reminders_send(acting_user=acting_user, kind=kind, plan=plan, dry_run=dry_run)


def notification_mark_read(*, acting_user: User, notification: Notification) -> None:
    """Mark one of the user's own notifications read. Not audited: it changes only the
    reader's own inbox, no record of anyone's (the view fetched it through access)."""
    if notification.recipient_id != acting_user.pk:
        raise ValueError("a notification is marked read by its recipient only")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])


def notifications_mark_all_read(*, acting_user: User) -> int:
    return Notification.objects.filter(recipient=acting_user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
