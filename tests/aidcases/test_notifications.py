"""The notification centre (list, unread count, mark read — the recipient's only) and the
hub's once-only reminder sending (claims under concurrency, dry run, emails)."""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import connection
from django.urls import reverse

from aidcases import services
from aidcases.models import AuditEvent, Notification, ReminderClaim
from aidcases.reminders import Plan, Reminder

pytestmark = pytest.mark.django_db


def note(user, title="服务队本季度尚未开展活动", link="/teams/", **fields) -> Notification:
    return Notification.objects.create(
        recipient=user, kind="team-activity", title=title, link=link, **fields
    )


def plan_for(*users, key="test:2026Q4:start:team=1") -> Plan:
    return Plan(
        period="2026年第四季度",
        reminders=[
            Reminder(key=key, about="城关镇服务队", recipients=list(users), title="请开展活动")
        ],
    )


# --- the centre ----------------------------------------------------------------------------


def test_unread_count_shows_in_the_navbar(client_for, officer_a, officer_b):
    note(officer_a)
    note(officer_a)
    note(officer_a, read_at="2026-11-01T08:00:00+08:00")
    note(officer_b)
    html = client_for(officer_a).get(reverse("home")).content.decode()
    assert 'data-testid="unread-count">2</span>' in html


def test_no_badge_when_everything_is_read(client_for, officer_a):
    note(officer_a, read_at="2026-11-01T08:00:00+08:00")
    html = client_for(officer_a).get(reverse("home")).content.decode()
    assert 'data-testid="notification-bell"' in html
    assert 'data-testid="unread-count"' not in html


def test_unread_count_is_one_query_whatever_the_number(officer_a, django_assert_num_queries):
    from aidcases import access

    for _i in range(30):
        note(officer_a)
    with django_assert_num_queries(1):
        assert access.unread_notification_count(officer_a) == 30


def test_list_shows_only_the_users_own_notifications_with_links(client_for, officer_a, officer_b):
    note(officer_a, title="甲的提醒", link="/teams/7/")
    note(officer_b, title="乙的提醒东冶")
    html = client_for(officer_a).get(reverse("notification_list")).content.decode()
    assert "甲的提醒" in html and "乙的提醒东冶" not in html
    assert "查看详情" in html


def test_the_unread_tab_lists_only_unread(client_for, officer_a):
    note(officer_a, title="还没读")
    note(officer_a, title="已经读过", read_at="2026-11-01T08:00:00+08:00")
    html = client_for(officer_a).get(reverse("notification_list"), {"unread": "1"}).content.decode()
    assert "还没读" in html and "已经读过" not in html


def test_marking_one_read(client_for, officer_a):
    n = note(officer_a)
    response = client_for(officer_a).post(reverse("notification_read", args=[n.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("notification_list")
    n.refresh_from_db()
    assert n.read_at is not None


def test_opening_one_marks_it_read_and_goes_to_what_it_is_about(client_for, officer_a):
    n = note(officer_a, link="/teams/7/")
    response = client_for(officer_a).post(reverse("notification_read", args=[n.pk]), {"open": "1"})
    assert response.status_code == 302 and response["Location"] == "/teams/7/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_a_link_to_another_site_is_not_followed(client_for, officer_a):
    n = note(officer_a, link="https://evil.example.com/")
    response = client_for(officer_a).post(reverse("notification_read", args=[n.pk]), {"open": "1"})
    assert response["Location"] == reverse("notification_list")


def test_another_users_notification_is_404_and_stays_unread(client_for, officer_a, admin):
    theirs = note(officer_a)
    response = client_for(admin).post(reverse("notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_needs_a_post(client_for, officer_a):
    n = note(officer_a)
    assert client_for(officer_a).get(reverse("notification_read", args=[n.pk])).status_code == 405
    assert client_for(officer_a).get(reverse("notification_read_all")).status_code == 405


def test_marking_read_needs_the_csrf_token(officer_a):
    from django.test import Client

    n = note(officer_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer_a)
    assert client.post(reverse("notification_read", args=[n.pk])).status_code == 403
    assert client.post(reverse("notification_read_all")).status_code == 403
    n.refresh_from_db()
    assert n.read_at is None


def test_marking_all_read_touches_only_the_users_own(client_for, officer_a, officer_b):
    mine = [note(officer_a), note(officer_a)]
    theirs = note(officer_b)
    response = client_for(officer_a).post(reverse("notification_read_all"))
    assert response.status_code == 302
    assert all(Notification.objects.get(pk=n.pk).read_at is not None for n in mine)
    assert Notification.objects.get(pk=theirs.pk).read_at is None


# --- claims and sending -------------------------------------------------------------------


def test_a_key_is_claimed_once():
    from django.db import transaction

    with transaction.atomic():
        assert services.reminder_claim(keys=["a", "b", "b"]) == {"a", "b"}
    with transaction.atomic():
        assert services.reminder_claim(keys=["a", "c"]) == {"c"}
    assert ReminderClaim.objects.count() == 3


def test_a_rolled_back_claim_frees_the_key():
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        assert services.reminder_claim(keys=["x"]) == {"x"}
        raise RuntimeError("the notifications could not be written")
    with transaction.atomic():
        assert services.reminder_claim(keys=["x"]) == {"x"}


def test_sending_twice_notifies_and_emails_once(
    officer_a, leader, django_capture_on_commit_callbacks
):
    officer_a.email = "officer_a@example.org"
    officer_a.save(update_fields=["email"])
    leader.email = ""
    leader.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        first = services.reminders_send(
            acting_user=None, kind="team-activity", plan=plan_for(officer_a, leader)
        )
    with django_capture_on_commit_callbacks(execute=True):
        again = services.reminders_send(
            acting_user=None, kind="team-activity", plan=plan_for(officer_a, leader)
        )
    assert [o.sent for o in first] == [True] and [o.sent for o in again] == [False]
    assert Notification.objects.filter(recipient=officer_a).count() == 1
    assert Notification.objects.filter(recipient=leader).count() == 1
    # only the recipient with an address gets an email, once
    assert [m.to for m in mail.outbox] == [["officer_a@example.org"]]
    assert "请开展活动" in mail.outbox[0].subject
    assert AuditEvent.objects.filter(verb="reminder.send").count() == 1


def test_a_dry_run_writes_nothing(officer_a, django_capture_on_commit_callbacks):
    officer_a.email = "officer_a@example.org"
    officer_a.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = services.reminders_send(
            acting_user=None, kind="team-activity", plan=plan_for(officer_a), dry_run=True
        )
    assert [o.sent for o in outcomes] == [True]  # would be sent
    assert not ReminderClaim.objects.exists() and not Notification.objects.exists()
    assert not AuditEvent.objects.filter(verb="reminder.send").exists()
    assert mail.outbox == []


def test_a_dry_run_after_sending_says_it_was_sent(officer_a):
    services.reminders_send(acting_user=None, kind="team-activity", plan=plan_for(officer_a))
    outcomes = services.reminders_send(
        acting_user=None, kind="team-activity", plan=plan_for(officer_a), dry_run=True
    )
    assert [o.sent for o in outcomes] == [False]


@pytest.mark.django_db(transaction=True)
def test_twenty_workers_at_once_send_each_reminder_once(county, township_a):
    from tests.factories import UserFactory

    officer = UserFactory(username="officer_race", role="township_officer", area=township_a)
    plan = Plan(
        period="2026年第四季度",
        reminders=[
            Reminder(
                key=f"race:2026Q4:start:team={i}",
                about=f"服务队{i}",
                recipients=[officer],
                title="请开展活动",
            )
            for i in range(10)
        ],
    )
    start = threading.Barrier(20)
    sent: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            outcomes = services.reminders_send(acting_user=None, kind="team-activity", plan=plan)
            sent.append(sum(o.sent for o in outcomes))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert sum(sent) == 10 and len(sent) == 20
    assert Notification.objects.filter(recipient=officer).count() == 10
    assert ReminderClaim.objects.filter(key__startswith="race:").count() == 10
