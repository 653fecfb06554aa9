"""The area picker (aidcases/areapicker.py) on the person and user forms: county
users choose a township, then one of its villages (loaded by htmx); township
officers see their villages directly; the server decides what may be chosen."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from aidcases.models import Area, Person, User
from tests.aidcases.test_people_forms import CREATE, errors, person_post
from tests.aidcases.test_users import officer_form
from tests.factories import child_area, make_person

OPTIONS = "/areas/options/"
PICKER = {"from": "area_parent", "levels": "village,hamlet,group"}


@pytest.fixture
def hamlet_a(village_a) -> Area:
    return child_area(village_a, "001", "南街一组", Area.Level.GROUP)


def option_labels(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, f"no <select name={name}>"
    return re.findall(r"<option[^>]*>([^<]*)</option>", select.group(1))


def selected(html: str, name: str) -> list[str]:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    return re.findall(r'<option value="(\d*)" selected>', select.group(1))


# --- the person form ----------------------------------------------------------


def test_county_staff_person_form_lists_townships_not_every_village(
    client_for, county_staff, village_a, village_b
):
    html = client_for(county_staff).get(CREATE).content.decode()
    assert option_labels(html, "area_parent")[1:] == ["城关镇", "东冶乡"]
    assert option_labels(html, "area") == ["—请先选择乡(镇)—"]
    assert "南街村" not in html and "东冶村" not in html
    # htmx loads the villages of the township chosen, into the village <select>.
    assert f'hx-get="{OPTIONS}?' in html and 'hx-target="#id_area"' in html


def test_choosing_a_township_loads_its_villages_and_their_groups(
    client_for, county_staff, township_a, village_a, village_b, hamlet_a
):
    response = client_for(county_staff).get(OPTIONS, {**PICKER, "area_parent": township_a.pk})
    labels = re.findall(r"<option[^>]*>([^<]*)</option>", response.content.decode())
    assert labels == ["—请选择—", "南街村", "　南街一组"]


def test_officer_loads_no_villages_of_another_township(
    client_for, officer_a, township_b, village_b
):
    response = client_for(officer_a).get(OPTIONS, {**PICKER, "area_parent": township_b.pk})
    assert "东冶村" not in response.content.decode()


def test_officer_sees_own_villages_and_groups_in_one_select(
    client_for, officer_a, village_a, village_b, hamlet_a
):
    html = client_for(officer_a).get(CREATE).content.decode()
    assert 'name="area_parent"' not in html
    assert option_labels(html, "area") == ["—请选择—", "南街村", "　南街一组"]


def test_a_group_below_a_village_may_be_chosen(client_for, county_staff, township_a, hamlet_a):
    response = client_for(county_staff).post(
        CREATE, person_post(hamlet_a, area_parent=township_a.pk)
    )
    assert response.status_code == 302
    assert Person.objects.get().area == hamlet_a


def test_a_township_alone_asks_for_the_village_and_lists_them(
    client_for, county_staff, township_a, village_a, village_b
):
    # Without JavaScript the villages are not loaded: saving brings them.
    response = client_for(county_staff).post(
        CREATE, person_post(village_a, area_parent=township_a.pk) | {"area": ""}
    )
    assert errors(response)["area"] == ["请在所选乡(镇)下选择村(社区)。"]
    html = response.content.decode()
    assert selected(html, "area_parent") == [str(township_a.pk)]
    assert option_labels(html, "area") == ["—请选择—", "南街村"]
    assert not Person.objects.exists()


def test_a_form_with_errors_keeps_the_township_and_village_chosen(
    client_for, county_staff, township_a, village_a
):
    response = client_for(county_staff).post(
        CREATE, person_post(village_a, name="", area_parent=township_a.pk)
    )
    assert "name" in errors(response) and "area" not in errors(response)
    html = response.content.decode()
    assert selected(html, "area_parent") == [str(township_a.pk)]
    assert selected(html, "area") == [str(village_a.pk)]


def test_a_village_of_another_township_than_the_one_chosen_is_not_taken(
    client_for, county_staff, township_b, village_a, village_b
):
    # The township was changed after the villages were loaded (no JavaScript).
    response = client_for(county_staff).post(
        CREATE, person_post(village_a, area_parent=township_b.pk)
    )
    assert errors(response)["area"] == ["请在所选乡(镇)下选择村(社区)。"]
    html = response.content.decode()
    assert selected(html, "area_parent") == [str(township_b.pk)]
    assert option_labels(html, "area") == ["—请选择—", "东冶村"]


def test_officer_cannot_post_another_townships_village_through_the_township(
    client_for, officer_a, township_b, village_b
):
    response = client_for(officer_a).post(
        CREATE, person_post(village_b, area_parent=township_b.pk) | {"area": ""}
    )
    assert errors(response)["area"] == ["请选择有效的村(社区)。"]
    assert not Person.objects.exists()


def test_edit_form_shows_the_persons_township_and_village(
    client_for, county_staff, township_a, village_a, village_b, hamlet_a
):
    person = make_person(hamlet_a, name="赵熙晨")
    html = client_for(county_staff).get(reverse("person_edit", args=[person.pk])).content.decode()
    assert selected(html, "area_parent") == [str(township_a.pk)]
    assert selected(html, "area") == [str(hamlet_a.pk)]
    assert "东冶村" not in html


# --- the user form ------------------------------------------------------------


def test_user_form_lists_county_and_townships_not_villages(
    client_for, admin, county, township_a, village_a
):
    html = client_for(admin).get(reverse("user_create")).content.decode()
    assert option_labels(html, "area_parent") == ["—不指定—", "青山县（县级）", "城关镇"]
    assert "南街村" not in html


@pytest.mark.parametrize("chosen", ["county", "township_a", "village_a"])
def test_user_area_may_be_a_county_township_or_village(
    client_for, admin, county, township_a, village_a, chosen, request
):
    area = request.getfixturevalue(chosen)
    parent = county if chosen == "county" else township_a
    lower = village_a.pk if chosen == "village_a" else ""
    role = User.Role.COUNTY_STAFF if chosen == "county" else User.Role.TOWNSHIP_OFFICER
    response = client_for(admin).post(
        reverse("user_create"), officer_form(role=role, area=lower, area_parent=parent.pk)
    )
    assert response.status_code == 302
    assert User.objects.get(username="zhao_officer").area == area


def test_user_area_may_not_be_a_group(client_for, admin, township_a, hamlet_a):
    response = client_for(admin).post(
        reverse("user_create"), officer_form(area=hamlet_a.pk, area_parent=township_a.pk)
    )
    assert response.status_code == 200
    assert "area" in response.context["form"].errors
    assert not User.objects.filter(username="zhao_officer").exists()


def test_user_edit_form_shows_the_township_of_a_village_user(
    client_for, admin, township_a, village_a
):
    leader = User.objects.create_user("leader_v", role=User.Role.TEAM_LEADER, area=village_a)
    html = client_for(admin).get(reverse("user_edit", args=[leader.pk])).content.decode()
    assert selected(html, "area_parent") == [str(township_a.pk)]
    assert selected(html, "area") == [str(village_a.pk)]
