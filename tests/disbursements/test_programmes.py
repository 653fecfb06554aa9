"""Programmes: saved through `programme_save` with its checks, and through the pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from aidcases.models import AuditEvent
from disbursements import services
from disbursements.models import AidProgramme
from disbursements.services import ProgrammeData

pytestmark = pytest.mark.django_db


@pytest.fixture
def fund(county_staff):
    return services.fund_create(acting_user=county_staff, name="爱心助学基金")


def _data(fund, **overrides) -> ProgrammeData:
    values = {
        "name": "困难大学新生助学金",
        "kind": "student",
        "mode": "one_off",
        "standard_amounts": {"special": Decimal("5000"), "": Decimal("3000")},
        "categories": ["student"],
        "levels": ["special", "hard"],
        "flags": ["dibao"],
        "school_stages": ["university"],
        "yearly_cap": Decimal("5000"),
        "funds": [fund],
        "approvals_required": 1,
        "bands": [(Decimal("100000"), 2)],
    }
    values.update(overrides)
    return ProgrammeData(**values)


def test_a_programme_is_saved_with_its_bands_and_audited(county_staff, fund):
    programme = services.programme_save(acting_user=county_staff, data=_data(fund))
    assert programme.standard_for("special") == Decimal("5000")
    assert programme.standard_for("general") == Decimal("3000")
    assert list(programme.funds.all()) == [fund]
    assert [(b.min_total, b.approvals) for b in programme.bands.all()] == [
        (Decimal("100000.00"), 2)
    ]
    assert AuditEvent.objects.filter(verb="programme.create").count() == 1
    services.programme_save(
        acting_user=county_staff, programme=programme, data=_data(fund, bands=[])
    )
    assert not programme.bands.exists()
    event = AuditEvent.objects.get(verb="programme.update")
    assert event.details["changed"] == ["bands"]
    # saving the same again changes nothing and writes nothing
    services.programme_save(
        acting_user=county_staff, programme=programme, data=_data(fund, bands=[])
    )
    assert AuditEvent.objects.filter(verb="programme.update").count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mode": "monthly", "months": None}, "months"),
        ({"standard_amounts": {}}, "standard_amounts"),
        ({"standard_amounts": {"gold": Decimal("1")}}, "standard_amounts"),
        ({"standard_amounts": {"": Decimal("0")}}, "standard_amounts"),
        ({"yearly_cap": Decimal("100")}, "yearly_cap"),
        ({"funds": []}, "funds"),
        ({"levels": ["nope"]}, "levels"),
        ({"bands": [(Decimal("1000"), 1), (Decimal("1000"), 2)]}, "bands"),
        ({"approvals_required": 2, "bands": [(Decimal("1000"), 1)]}, "bands"),
    ],
)
def test_programme_save_refuses_bad_input(county_staff, fund, overrides, field):
    with pytest.raises(ValidationError) as info:
        services.programme_save(acting_user=county_staff, data=_data(fund, **overrides))
    assert field in info.value.error_dict
    assert not AidProgramme.objects.exists()


def test_monthly_programmes_keep_their_months(county_staff, fund):
    programme = services.programme_save(
        acting_user=county_staff, data=_data(fund, mode="monthly", months=10)
    )
    assert programme.months == 10
    programme = services.programme_save(
        acting_user=county_staff, programme=programme, data=_data(fund, months=10)
    )
    assert programme.months is None  # one-off again: months mean nothing


def _post_data(fund, **overrides) -> dict:
    data = {
        "name": "留守儿童关爱金",
        "kind": "left_behind",
        "mode": "monthly",
        "months": "10",
        "amount_special": "300",
        "amount_none": "200",
        "categories": ["left_behind"],
        "levels": ["special"],
        "flags": ["orphan"],
        "funds": [fund.pk],
        "approvals_required": "1",
        "band_0_min": "50000",
        "band_0_approvals": "2",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_the_programme_pages_create_and_edit(client_for, county_staff, fund):
    client = client_for(county_staff)
    assert client.get(reverse("programme_create")).status_code == 200
    response = client.post(reverse("programme_create"), _post_data(fund))
    assert response.status_code == 302, response.content.decode()[:3000]
    programme = AidProgramme.objects.get()
    assert programme.standard_amounts == {"special": "300", "": "200"}
    assert programme.months == 10 and programme.bands.get().approvals == 2
    html = client.get(reverse("programme_list")).content.decode()
    assert "留守儿童关爱金" in html and "¥300.00" in html
    response = client.post(
        reverse("programme_edit", args=[programme.pk]), _post_data(fund, months="", name="改名")
    )
    html = response.content.decode()
    assert response.status_code == 200 and "发放月数" in html and "改名" in html
    programme.refresh_from_db()
    assert programme.name == "留守儿童关爱金"


def test_a_band_needs_both_numbers(client_for, county_staff, fund):
    response = client_for(county_staff).post(
        reverse("programme_create"), _post_data(fund, band_0_approvals="")
    )
    assert "请同时填写起点金额和审批人数" in response.content.decode()


@pytest.mark.parametrize("who", ["approver", "auditor"])
def test_read_only_roles_read_programmes_but_cannot_change_them(
    who, request, client_for, county_staff, fund
):
    programme = services.programme_save(acting_user=county_staff, data=_data(fund))
    client = client_for(request.getfixturevalue(who))
    html = client.get(reverse("programme_list")).content.decode()
    assert (
        "困难大学新生助学金" in html and reverse("programme_edit", args=[programme.pk]) not in html
    )
    assert client.get(reverse("programme_edit", args=[programme.pk])).status_code == 403
    assert client.post(reverse("programme_create"), _post_data(fund)).status_code == 403


def test_officers_are_refused_the_programme_pages(client_for, officer_a, county_staff, fund):
    programme = services.programme_save(acting_user=county_staff, data=_data(fund))
    client = client_for(officer_a)
    assert client.get(reverse("programme_list")).status_code == 403
    assert client.get(reverse("programme_edit", args=[programme.pk])).status_code == 403
