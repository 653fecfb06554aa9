"""A funded programme and a batch on its way, built through the services."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from aidcases.models import AidCase
from disbursements import services
from disbursements.models import AidProgramme
from disbursements.services import FundEntryData
from tests.factories import UserFactory, make_person


@pytest.fixture
def funded(county_staff):
    source = services.funding_source_create(
        acting_user=county_staff, kind="charity", name="青山县慈善总会"
    )
    fund = services.fund_create(acting_user=county_staff, name="爱心助学基金")
    entry = services.fund_entry_create(
        acting_user=county_staff,
        data=FundEntryData(
            source=source, fund=fund, amount=Decimal("10000"), received_on=date(2026, 9, 1)
        ),
    )
    services.fund_entry_post(acting_user=county_staff, entry=entry)
    programme = AidProgramme.objects.create(
        name="困难学生助学金",
        kind="student",
        mode="per_term",
        standard_amounts={"special": "1000", "hard": "800", "": "500"},
        categories=["student"],
        yearly_cap=Decimal("2000"),
    )
    programme.funds.add(fund)
    fund.refresh_from_db()
    return programme, fund


@pytest.fixture
def students(village_a):
    return [
        make_person(village_a, name=name, category=AidCase.Category.STUDENT).cases.get()
        for name in ("赵小明", "钱小红", "孙小刚")
    ]


@pytest.fixture
def approver2(county):
    from aidcases.models import User

    return UserFactory(username="approver2", role=User.Role.APPROVER, area=county)


@pytest.fixture
def today(monkeypatch):
    """Set today's date for the services: `today(date(2026, 10, 12))`."""

    def set_day(day: date) -> None:
        monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: day)

    return set_day


@pytest.fixture
def walk(county_staff, officer_a, approver, funded, students, today):
    """`walk(until)` takes a batch of the three students from DRAFT up to `until`."""
    programme, fund = funded
    made = []

    def go(until: str):
        made.append(until)
        today(date(2026, 10, 12))  # a Monday
        batch = services.batch_create(
            acting_user=county_staff,
            programme=programme,
            name=f"2026年秋季学期困难学生助学金（{len(made)}）",
            school_year=2026,
            term="autumn",
            fund=fund,
        )
        for case in students:
            services.line_add(acting_user=officer_a, batch=batch, case=case)
        steps = [
            (
                "verifying",
                lambda: services.batch_start_verification(acting_user=county_staff, batch=batch),
            ),
            (
                "verified",
                lambda: [
                    services.line_verify(acting_user=county_staff, line=line, method="home")
                    for line in batch.lines.all()
                ],
            ),
            ("locked", lambda: services.batch_lock(acting_user=county_staff, batch=batch)),
            ("in_approval", lambda: services.batch_submit(acting_user=county_staff, batch=batch)),
            ("approved", lambda: services.batch_approve(acting_user=approver, batch=batch)),
            (
                "in_publicity",
                lambda: services.batch_start_publicity(
                    acting_user=county_staff,
                    batch=batch,
                    starts=date(2026, 10, 12),
                    phone="0350-1234567",
                    issuer="共青团青山县委",
                ),
            ),
            (
                "released",
                lambda: (
                    today(date(2026, 10, 19)),
                    services.batch_release(acting_user=county_staff, batch=batch),
                ),
            ),
        ]
        for name, step in steps:
            step()
            if name == until:
                break
        batch.refresh_from_db()
        return batch

    return go


@pytest.fixture
def draft_batch(county_staff, officer_a, funded, students):
    """A DRAFT batch of the funded programme with the three students nominated by A."""
    programme, fund = funded
    batch = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="2026年秋季学期困难学生助学金（草稿）",
        school_year=2026,
        term="autumn",
        fund=fund,
    )
    for case in students:
        services.line_add(acting_user=officer_a, batch=batch, case=case)
    return batch
