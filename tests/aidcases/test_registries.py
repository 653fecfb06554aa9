"""What leaf apps register with the hub in AppConfig.ready(): people-list
filters, navigation entries and role permissions."""

from __future__ import annotations

import django_filters
import pytest
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from aidcases import roles, services
from aidcases.models import AidCase, AuditEvent, Job
from aidcases.people.filters import CaseFilter, register_case_filter, unregister_case_filter
from tests.factories import make_person

URL = "/people/"


def _limit_to_township_users(field, scope):
    # A limit sees the user: only township users get the second choice.
    if scope.user.area and scope.user.area.level == "township":
        field.choices = [("", "全部"), ("红", "红"), ("蓝", "蓝")]


@pytest.fixture
def colour_filter():
    case_filter = register_case_filter(
        CaseFilter(
            name="colour",
            filter=django_filters.ChoiceFilter(label="颜色", choices=[("红", "红")]),
            condition=lambda colour: Q(notes=colour),
            limit=_limit_to_township_users,
        )
    )
    yield case_filter
    unregister_case_filter("colour")


def _note_on_case(person, notes: str) -> None:
    AidCase.objects.filter(person=person).update(notes=notes)


def test_a_registered_filter_narrows_the_list_by_an_open_case(
    client_for, officer_a, village_a, colour_filter
):
    red = make_person(village_a, name="红甲", category="tekun")
    blue = make_person(village_a, name="蓝乙", category="tekun")
    _note_on_case(red, "红")
    _note_on_case(blue, "蓝")
    services.case_close(
        acting_user=officer_a,
        case=blue.cases.get(),
        closed_on=timezone.localdate(),
        reason="已脱贫",
    )

    client = client_for(officer_a)
    response = client.get(URL, {"colour": "红"})

    assert [p.name for p in response.context["page"].object_list] == ["红甲"]
    fields = list(response.context["filter"].form.fields)
    assert fields.index("flags") < fields.index("colour") < fields.index("status")
    # The closed case does not count, whatever its notes.
    assert not client.get(URL, {"colour": "蓝"}).context["page"].object_list


def test_a_registered_filters_choices_are_limited_per_user(
    client_for, officer_a, county_staff, colour_filter
):
    officer_form = client_for(officer_a).get(URL, {"colour": "蓝"}).context["filter"].form
    county_form = client_for(county_staff).get(URL, {"colour": "蓝"}).context["filter"].form

    assert not officer_form.errors
    assert "colour" in county_form.errors


def test_a_registered_filter_goes_into_the_export(
    client_for, officer_a, village_a, colour_filter, django_capture_on_commit_callbacks
):
    red = make_person(village_a, name="红甲", category="tekun")
    _note_on_case(red, "红")
    make_person(village_a, name="无色丙", category="tekun")

    with django_capture_on_commit_callbacks(execute=True):
        client_for(officer_a).post(reverse("person_export"), {"colour": "红"})

    job = Job.objects.get(kind="people_export")
    assert job.params["filters"] == {"colour": ["红"]}
    assert AuditEvent.objects.get(verb="person.export").details["rows"] == 1


def test_registered_navigation_entries_take_their_place(client_for, officer_a):
    nav = [name for name, _label in client_for(officer_a).get("/").context["nav_items"]]

    # The 学校 entry comes from the students app, between the hub's own.
    assert nav.index("people_import") < nav.index("school_list") < nav.index("duplicate_review")


def test_navigation_entries_of_one_group_share_a_dropdown(client_for, officer_a):
    menu = client_for(officer_a).get("/").context["nav_menu"]
    labels = [str(entry["label"]) for entry in menu]
    assert labels[:3] == ["首页", "帮扶对象", "志愿服务"]
    people = next(e for e in menu if str(e["label"]) == "帮扶对象")
    assert [name for name, _label in people["entries"]] == [
        "person_list",
        "people_import",
        "school_list",
        "duplicate_review",
    ]
    volunteering = next(e for e in menu if str(e["label"]) == "志愿服务")
    assert {"team_list", "pairing_list", "visit_list", "follow_up_list"} <= {
        name for name, _label in volunteering["entries"]
    }
    # the officer's only 系统 entry (后台任务) is a plain link, not a one-item dropdown
    system = client_for(officer_a).get("/").context["admin_nav_menu"]
    assert system == [{"label": "后台任务", "url_name": "job_list", "active": False}]


def test_leaf_apps_registered_their_role_permissions():
    for app_label in ("students", "disbursements", "volunteers"):
        assert roles.ROLE_PERMISSIONS[roles.Role.ADMIN][app_label] == roles.ALL_ACTIONS
    assert "students" not in roles.ROLE_PERMISSIONS[roles.Role.TEAM_LEADER]


def test_registering_permissions_for_an_unknown_role_fails_loudly():
    with pytest.raises(ValueError):
        roles.register_app_permissions("nowhere", {"janitor": ("view",)})
