"""A batch's path from nomination to payment, and the rules that guard the money."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.http import Http404

from aidcases import services as hub
from aidcases.models import AuditEvent
from aidcases.services import PersonData
from disbursements import services
from disbursements.models import AidLine, FundMovement
from disbursements.services import InsufficientFunds
from disbursements.workdays import working_days_end

pytestmark = pytest.mark.django_db


def test_the_whole_path_pays_each_line_once_and_the_fund_adds_up(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    assert batch.state == "released"
    fund.refresh_from_db()
    assert (fund.committed, fund.balance) == (Decimal("1500.00"), Decimal("8500.00"))
    lines = list(batch.lines.order_by("id"))
    for i, line in enumerate(lines):
        services.line_mark_paid(
            acting_user=county_staff,
            line=line,
            paid_on=date(2026, 10, 19),
            method="bank",
            voucher=f"YH{i}",
        )
    # a double submit of the last one changes nothing and moves no money
    services.line_mark_paid(
        acting_user=county_staff,
        line=lines[-1],
        paid_on=date(2026, 10, 19),
        method="bank",
        voucher="YH2",
    )
    batch.refresh_from_db()
    fund.refresh_from_db()
    assert batch.state == "paid"
    assert (fund.committed, fund.paid, fund.balance) == (0, Decimal("1500.00"), Decimal("8500.00"))
    assert FundMovement.objects.filter(kind="pay").count() == 3
    assert AuditEvent.objects.filter(verb="aid_line.pay").count() == 3


def test_nobody_approves_a_batch_they_created_or_nominated_in_nor_twice(
    walk, county_staff, officer_a, approver, approver2, funded
):
    batch = walk("in_approval")
    from django.contrib.auth.models import Permission  # noqa: F401  (roles come from rules)

    # the creator and the nominator are not approvers by role; make the point with a rule check
    with pytest.raises(PermissionDenied):
        services.batch_approve(acting_user=county_staff, batch=batch)
    services.batch_approve(acting_user=approver, batch=batch)
    with pytest.raises(ValidationError, match="已审批过"):
        services.batch_approve(acting_user=approver, batch=batch)
    # an approver who nominated a line may not approve the batch
    line = batch.lines.first()
    AidLine.objects.filter(pk=line.pk).update(nominated_by=approver2)
    with pytest.raises(PermissionDenied):
        services.batch_approve(acting_user=approver2, batch=batch)


def test_publicity_needs_the_approvals_and_lasts_five_working_days(walk, county_staff, settings):
    settings.PUBLIC_HOLIDAYS = ["2026-10-14"]
    batch = walk("in_approval")
    with pytest.raises(ValidationError, match="还需 1 人审批"):
        services.batch_start_publicity(
            acting_user=county_staff, batch=batch, starts=date(2026, 10, 12), phone="1", issuer="x"
        )
    services.batch_abort(acting_user=county_staff, batch=batch, comment="重做")
    batch = walk("in_publicity")
    # Mon 12th … Fri 16th, minus the Wednesday holiday → Monday 19th
    assert (batch.publicity_starts, batch.publicity_ends) == (
        date(2026, 10, 12),
        date(2026, 10, 19),
    )


def test_working_days_skip_weekends_and_holidays_and_count_makeup_days(settings):
    settings.PUBLIC_HOLIDAYS = [
        "2026-10-01",
        "2026-10-02",
        "2026-10-05",
        "2026-10-06",
        "2026-10-07",
    ]
    settings.MAKEUP_WORKDAYS = ["2026-10-10"]
    # starts on the holiday Thursday 1st: first working day Thursday 8th, Fri 9th, Sat 10th
    # (make-up), Mon 12th, Tue 13th
    assert working_days_end(date(2026, 10, 1), 5) == date(2026, 10, 13)
    settings.PUBLIC_HOLIDAYS = settings.MAKEUP_WORKDAYS = []
    assert working_days_end(date(2026, 10, 16), 5) == date(2026, 10, 22)  # Fri → Thu


def test_release_waits_for_the_end_of_publicity(walk, county_staff, today):
    batch = walk("in_publicity")
    today(date(2026, 10, 16))  # the last day of the window
    with pytest.raises(ValidationError, match="公示期"):
        services.batch_release(acting_user=county_staff, batch=batch)


def test_the_locked_list_keeps_its_snapshot_after_a_registry_edit(walk, county_staff, students):
    batch = walk("locked")
    person = students[0].person
    hub.person_update(
        acting_user=county_staff,
        person=person,
        data=PersonData(name="赵晓明", area=person.area, id_number="", gender="", no_id_reason="x"),
    )
    line = batch.lines.get(person=person)
    assert line.snap_name == "赵小明" and line.snap_village == person.area.name


def test_a_person_is_paid_once_per_term_by_a_programme_whatever_the_batch(
    walk, county_staff, officer_a, funded, students
):
    programme, fund = funded
    first = walk("verified")
    second = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="补充批次",
        school_year=2026,
        term="autumn",
        fund=fund,
    )
    # both lists still open: nothing stops the second nomination yet
    services.line_add(acting_user=officer_a, batch=second, case=students[0])
    services.batch_lock(acting_user=county_staff, batch=first)
    services.batch_start_verification(acting_user=county_staff, batch=second)
    services.line_verify(acting_user=county_staff, line=second.lines.get(), method="phone")
    with pytest.raises(ValidationError, match="赵小明 本期已在该项目的其他批次中"):
        services.batch_lock(acting_user=county_staff, batch=second)


def test_a_person_holding_this_periods_payment_cannot_be_nominated_again(
    walk, county_staff, officer_a, funded, students
):
    programme, fund = funded
    walk("locked")
    second = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="补充批次",
        school_year=2026,
        term="autumn",
        fund=fund,
    )
    with pytest.raises(ValidationError, match="赵小明 本期已在该项目的其他批次（.*）中"):
        services.line_add(acting_user=officer_a, batch=second, case=students[0])
    spring = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="春季批次",
        school_year=2026,
        term="spring",
        fund=fund,
    )
    # another term is another period
    assert services.line_add(acting_user=officer_a, batch=spring, case=students[0]).pk


def test_a_failed_line_returns_the_commitment_and_is_paid_again_only_by_a_follow_up(
    walk, county_staff, officer_a, funded, students
):
    programme, fund = funded
    batch = walk("released")
    line = batch.lines.get(person=students[0].person)
    services.line_mark_failed(acting_user=county_staff, line=line, reason="账户已销户")
    fund.refresh_from_db()
    assert fund.committed == Decimal("1000.00")
    other = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="另一批次",
        school_year=2026,
        term="autumn",
        fund=fund,
    )
    with pytest.raises(ValidationError, match="补发"):
        services.line_add(acting_user=officer_a, batch=other, case=students[0], retry_of=line)
    follow_up = services.batch_create(
        acting_user=county_staff,
        programme=programme,
        name="补发批次",
        school_year=2026,
        term="autumn",
        fund=fund,
        follow_up_of=batch,
    )
    retry = services.line_add(
        acting_user=officer_a, batch=follow_up, case=students[0], retry_of=line
    )
    assert retry.amount == line.amount


def test_a_reversal_restores_the_balance_and_a_paid_line_is_final(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    line = batch.lines.first()
    services.line_mark_paid(
        acting_user=county_staff, line=line, paid_on=date(2026, 10, 19), method="bank", voucher="V1"
    )
    with pytest.raises(DatabaseError), transaction.atomic():
        AidLine.objects.filter(pk=line.pk).update(amount=Decimal("1"))
    with pytest.raises(DatabaseError), transaction.atomic():
        AidLine.objects.filter(pk=line.pk).delete()
    fund.refresh_from_db()
    before = fund.balance
    services.line_reverse(acting_user=county_staff, line=line, reason="重复发放")
    fund.refresh_from_db()
    line.refresh_from_db()
    assert line.state == "reversed" and fund.balance == before + line.amount
    assert fund.paid == 0


def test_release_is_refused_when_the_fund_cannot_cover_it(walk, county_staff, funded, today):
    _programme, fund = funded
    batch = walk("in_publicity")
    hub_admin = county_staff
    services.fund_move(acting_user=hub_admin, fund=fund, kind="commit", amount=Decimal("9000"))
    today(date(2026, 10, 19))
    with pytest.raises(InsufficientFunds):
        services.batch_release(acting_user=county_staff, batch=batch)
    batch.refresh_from_db()
    assert batch.state == "in_publicity"


def test_over_the_yearly_cap_cannot_be_approved(walk, approver, funded, students):
    programme, _fund = funded
    programme.yearly_cap = Decimal("400")
    programme.save()
    batch = walk("in_approval")
    line = batch.lines.first()
    assert "超过本项目每人每年上限" in services.line_warnings(line)
    with pytest.raises(ValidationError, match="超过每人每年上限"):
        services.batch_approve(acting_user=approver, batch=batch)


def test_an_officer_nominates_only_in_their_township(walk, officer_b, funded, students):
    batch = walk("verifying")
    with pytest.raises(Http404):
        services.line_add(acting_user=officer_b, batch=batch, case=students[0])


def test_a_rejection_returns_the_list_to_locked_with_the_comment(walk, approver):
    batch = walk("in_approval")
    services.batch_reject(acting_user=approver, batch=batch, comment="请补充核查材料")
    batch.refresh_from_db()
    assert (batch.state, batch.last_comment, batch.approval_round) == (
        "locked",
        "请补充核查材料",
        2,
    )


@pytest.mark.django_db(transaction=True)
def test_twenty_people_paying_the_same_line_at_once_pay_it_once(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    line = batch.lines.first()
    start = threading.Barrier(20)
    errors: list[Exception] = []

    def pay() -> None:
        try:
            start.wait()
            services.line_mark_paid(
                acting_user=county_staff,
                line=line,
                paid_on=date(2026, 10, 19),
                method="bank",
                voucher="V1",
            )
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=pay) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fund.refresh_from_db()
    assert errors == []
    assert FundMovement.objects.filter(kind="pay", line=line).count() == 1
    assert fund.paid == line.amount
