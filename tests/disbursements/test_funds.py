"""Money in and the fund ledger: a posted entry is final, a correction is a cancelling
entry, and no movement — even twenty at once — takes a fund below zero."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from aidcases.models import AuditEvent
from disbursements import services
from disbursements.models import Fund, FundEntry, FundMovement
from disbursements.services import FundEntryData, InsufficientFunds

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(county_staff):
    return services.funding_source_create(
        acting_user=county_staff, kind="enterprise", name="青山县爱心企业联合会"
    )


@pytest.fixture
def fund(county_staff):
    return services.fund_create(acting_user=county_staff, name="爱心助学基金", purpose="助学")


def _post(user, source, fund, amount: str) -> FundEntry:
    entry = services.fund_entry_create(
        acting_user=user,
        data=FundEntryData(
            source=source, fund=fund, amount=Decimal(amount), received_on=date(2026, 9, 1)
        ),
    )
    return services.fund_entry_post(acting_user=user, entry=entry)


def test_a_draft_counts_for_nothing_and_posting_adds_income(county_staff, source, fund):
    entry = services.fund_entry_create(
        acting_user=county_staff,
        data=FundEntryData(
            source=source, fund=fund, amount=Decimal("5000"), received_on=date(2026, 9, 1)
        ),
    )
    fund.refresh_from_db()
    assert fund.balance == 0
    services.fund_entry_post(acting_user=county_staff, entry=entry)
    fund.refresh_from_db()
    assert fund.income == fund.balance == Decimal("5000.00")
    movement = FundMovement.objects.get()
    assert (movement.kind, movement.balance_after) == ("income", Decimal("5000.00"))
    assert AuditEvent.objects.filter(verb="fund_entry.post", object_id=str(entry.pk)).exists()
    with pytest.raises(ValidationError):
        services.fund_entry_post(acting_user=county_staff, entry=entry)
    fund.refresh_from_db()
    assert fund.income == Decimal("5000.00")


def test_a_posted_entry_is_never_edited_or_deleted(county_staff, source, fund):
    entry = _post(county_staff, source, fund, "800")
    # refused by a trigger in the database, whoever asks
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        FundEntry.objects.filter(pk=entry.pk).update(amount=Decimal("8000"))
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        FundEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        FundMovement.objects.update(amount=Decimal("1"))


def test_a_correction_is_a_cancelling_entry_that_points_to_the_original(county_staff, source, fund):
    entry = _post(county_staff, source, fund, "800")
    cancelling = services.fund_entry_cancel(
        acting_user=county_staff, entry=entry, reason="重复录入"
    )
    entry.refresh_from_db()
    fund.refresh_from_db()
    assert entry.state == "cancelled" and cancelling.cancels == entry
    assert fund.balance == 0
    assert list(FundMovement.objects.order_by("id").values_list("kind", "balance_after")) == [
        ("income", Decimal("800.00")),
        ("income_cancelled", Decimal("0.00")),
    ]
    with pytest.raises(ValidationError):
        services.fund_entry_cancel(acting_user=county_staff, entry=entry, reason="再次")


def test_cancelling_money_already_committed_is_refused_and_changes_nothing(
    county_staff, admin, source, fund
):
    entry = _post(county_staff, source, fund, "800")
    services.fund_move(acting_user=admin, fund=fund, kind="commit", amount=Decimal("500"))
    with pytest.raises(InsufficientFunds, match="余额不足"):
        services.fund_entry_cancel(acting_user=county_staff, entry=entry, reason="退款")
    entry.refresh_from_db()
    fund.refresh_from_db()
    assert entry.state == "posted" and fund.balance == Decimal("300.00")
    assert not FundEntry.objects.filter(cancels=entry).exists()


def test_the_database_refuses_a_negative_balance_whatever_the_python_says(fund):
    with pytest.raises(IntegrityError), transaction.atomic():
        Fund.objects.filter(pk=fund.pk).update(committed=Decimal("1"))


def test_a_township_officer_cannot_post_money(officer_a, source, fund):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.fund_entry_create(
            acting_user=officer_a,
            data=FundEntryData(
                source=source, fund=fund, amount=Decimal("1"), received_on=date(2026, 9, 1)
            ),
        )


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_commitments_never_overdraw_the_fund(county, admin):
    """20 threads each commit ¥100 of a ¥1,000 fund at the same moment: exactly 10 succeed,
    the others are told the balance is short, and the ledger adds up."""
    source = services.funding_source_create(acting_user=admin, kind="charity", name="慈善总会")
    fund = services.fund_create(acting_user=admin, name="并发测试基金")
    _post(admin, source, fund, "1000")
    start = threading.Barrier(20)
    outcomes: list[str] = []

    def commit() -> None:
        try:
            start.wait()
            services.fund_move(acting_user=admin, fund=fund, kind="commit", amount=Decimal("100"))
            outcomes.append("ok")
        except InsufficientFunds:
            outcomes.append("short")
        finally:
            connection.close()

    threads = [threading.Thread(target=commit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fund.refresh_from_db()
    assert sorted(outcomes) == ["ok"] * 10 + ["short"] * 10
    assert fund.committed == Decimal("1000.00") and fund.balance == 0
    balances = list(
        FundMovement.objects.filter(kind="commit")
        .order_by("id")
        .values_list("balance_after", flat=True)
    )
    assert balances == [Decimal(900 - 100 * i) for i in range(10)]
