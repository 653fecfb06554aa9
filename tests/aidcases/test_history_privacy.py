"""The field-history page (/audit/history/) and Django admin show no phone in clear: masked,
with a 显示 that writes the same audit event as the 一人一档 page's; Django admin is for
system admins only and has no history screens."""

from __future__ import annotations

import pytest
from django.urls import reverse

from aidcases.models import AuditEvent, Person, PersonEvent, User
from tests.factories import make_person

PHONE = "13912345678"
GUARDIAN = "13698765432"
NEW_PHONE = "13755556666"


@pytest.fixture
def person(village_b) -> Person:
    person = make_person(village_b, name="钱东冶", category="tekun", phone=PHONE)
    Person.objects.filter(pk=person.pk).update(guardian_phone=GUARDIAN)
    Person.objects.filter(pk=person.pk).update(phone=NEW_PHONE)
    return person


def _page(client) -> str:
    return client.get(reverse("history_list"), {"model": "aidcases.PersonEvent"}).content.decode()


@pytest.mark.parametrize("role_fixture", ["admin", "auditor"])
def test_history_page_masks_every_phone(request, client_for, person, role_fixture):
    html = _page(client_for(request.getfixturevalue(role_fixture)))

    for phone in (PHONE, GUARDIAN, NEW_PHONE):
        assert phone not in html
    assert "139****5678" in html and "137****6666" in html


def test_history_page_masks_phones_of_every_tracked_model(client_for, admin, officer_a):
    User.objects.filter(pk=officer_a.pk).update(phone="13511112222")
    html = client_for(admin).get(reverse("history_list")).content.decode()
    assert "13511112222" not in html and "135****2222" in html


def test_history_reveal_shows_the_value_and_writes_the_reveal_event(client_for, auditor, person):
    event = PersonEvent.objects.filter(pgh_obj_id=person.pk).order_by("-pgh_id").first()
    client = client_for(auditor)
    html = _page(client)
    url = reverse("history_reveal", args=["aidcases.PersonEvent", event.pgh_id, "phone"])
    assert url in html  # the 显示 button

    response = client.post(url)

    assert response.status_code == 200
    assert NEW_PHONE in response.content.decode() and PHONE in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    reveal = AuditEvent.objects.get(verb="person.reveal")
    assert reveal.actor == auditor and reveal.object_id == str(person.pk)
    assert reveal.details["field"] == "phone"


def test_history_reveal_by_get_changes_nothing(client_for, auditor, person):
    event = PersonEvent.objects.filter(pgh_obj_id=person.pk).first()
    url = reverse("history_reveal", args=["aidcases.PersonEvent", event.pgh_id, "phone"])
    assert client_for(auditor).get(url).status_code == 405
    assert not AuditEvent.objects.filter(verb="person.reveal").exists()


def test_history_reveal_refuses_a_field_that_is_not_masked(client_for, auditor, person):
    event = PersonEvent.objects.filter(pgh_obj_id=person.pk).first()
    url = reverse("history_reveal", args=["aidcases.PersonEvent", event.pgh_id, "name"])
    assert client_for(auditor).post(url).status_code == 404


def test_history_reveal_needs_the_reveal_permission(client_for, auditor, person, monkeypatch):
    has_perm = User.has_perm
    monkeypatch.setattr(
        User, "has_perm", lambda s, p, o=None: p != "aidcases.reveal_phone" and has_perm(s, p, o)
    )
    event = PersonEvent.objects.filter(pgh_obj_id=person.pk).first()
    client = client_for(auditor)
    url = reverse("history_reveal", args=["aidcases.PersonEvent", event.pgh_id, "phone"])
    assert url not in _page(client)
    assert client.post(url).status_code == 403
    assert not AuditEvent.objects.filter(verb="person.reveal").exists()


# --- Django admin -----------------------------------------------------------------------------


@pytest.mark.parametrize("role_fixture", ["county_staff", "officer_a", "leader", "auditor"])
def test_django_admin_is_not_for_other_roles(request, client_for, role_fixture):
    user = request.getfixturevalue(role_fixture)
    User.objects.filter(pk=user.pk).update(is_staff=True)  # even with the staff flag
    user.refresh_from_db()
    assert client_for(user).get("/django-admin/").status_code == 404


def test_django_admin_sends_anonymous_users_to_the_login_page(client, db):
    response = client.get("/django-admin/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_system_admin_opens_django_admin(client_for, admin):
    assert client_for(admin).get("/django-admin/").status_code == 200


def test_django_admin_has_no_field_history_screen(client_for, admin, person):
    client = client_for(admin)
    assert client.get("/django-admin/pghistory/middlewareevents/").status_code == 404
    html = client.get("/django-admin/").content.decode()
    assert "pghistory" not in html
    for phone in (PHONE, NEW_PHONE):
        assert phone not in html


def test_django_admin_object_history_views_are_gone(client_for, admin):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="系统管理员")
    client = client_for(admin)
    assert client.get(f"/django-admin/auth/group/{group.pk}/change/").status_code == 200
    assert client.get(f"/django-admin/auth/group/{group.pk}/history/").status_code == 404
