"""Paying or failing many lines at once (the bulk form of the batch page): the same rules
and records as one line at a time — a movement, a history row and an audit event per
line, paid once, the fund never below zero — in a number of statements that does not
grow with the lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aidcases.models import AidCase, AuditEvent
from disbursements import services
from disbursements.models import AidLine, AidLineEvent, FundMovement
from disbursements.services import InsufficientFunds
from tests.factories import make_person

pytestmark = pytest.mark.django_db

PAID_ON = date(2026, 10, 19)


@pytest.fixture
def released_with(county_staff, officer_a, approver, funded, today):
    """`released_with(cases)`: a RELEASED batch of those cases, through the services."""
    programme, fund = funded
    made = []

    def go(cases):
        made.append(1)
        today(date(2026, 10, 12))
        batch = services.batch_create(
            acting_user=county_staff,
            programme=programme,
            name=f"批量发放测试（{len(made)}）",
            school_year=2026,
            term="autumn",
            fund=fund,
        )
        for case in cases:
            services.line_add(acting_user=officer_a, batch=batch, case=case)
        services.batch_start_verification(acting_user=county_staff, batch=batch)
        for line in batch.lines.all():
            services.line_verify(acting_user=county_staff, line=line, method="phone")
        services.batch_lock(acting_user=county_staff, batch=batch)
        services.batch_submit(acting_user=county_staff, batch=batch)
        services.batch_approve(acting_user=approver, batch=batch)
        services.batch_start_publicity(
            acting_user=county_staff,
            batch=batch,
            starts=date(2026, 10, 12),
            phone="0350-1234567",
            issuer="共青团青山县委",
        )
        today(PAID_ON)
        services.batch_release(acting_user=county_staff, batch=batch)
        batch.refresh_from_db()
        return batch

    return go


def _ids(batch) -> list[int]:
    return list(batch.lines.order_by("pk").values_list("pk", flat=True))


def test_bulk_pay_writes_a_movement_history_row_and_audit_event_per_line(
    walk, county_staff, funded
):
    _programme, fund = funded
    batch = walk("released")
    outcome = services.lines_mark_paid(
        acting_user=county_staff, batch=batch, line_ids=_ids(batch), paid_on=PAID_ON, voucher="YH1"
    )
    assert len(outcome.done) == 3 and not outcome.already and not outcome.refused
    batch.refresh_from_db()
    fund.refresh_from_db()
    assert batch.state == "paid"
    assert (fund.committed, fund.paid, fund.balance) == (0, Decimal("1500.00"), Decimal("8500.00"))
    lines = list(batch.lines.order_by("pk"))
    assert {(x.state, x.method, x.voucher, x.paid_on) for x in lines} == {
        ("paid", "bank", "YH1", PAID_ON)
    }
    pays = FundMovement.objects.filter(kind="pay").order_by("pk")
    assert [m.line_id for m in pays] == [x.pk for x in lines]
    assert [m.amount for m in pays] == [x.amount for x in lines]
    assert {m.balance_after for m in pays} == {fund.balance}  # paying moves committed → paid
    events = AuditEvent.objects.filter(verb="aid_line.pay").order_by("pk")
    assert [e.object_id for e in events] == [str(x.pk) for x in lines]
    assert events[0].details == {"amount": str(lines[0].amount), "voucher": "YH1"}
    assert AuditEvent.objects.filter(verb="batch.paid").count() == 1
    history = AidLineEvent.objects.filter(pgh_obj__in=lines, pgh_label="update", state="paid")
    assert history.count() == 3
    assert {e.pgh_context.metadata["user"] for e in history} == {county_staff.pk}


def test_a_second_bulk_pay_moves_no_money(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    services.lines_mark_paid(
        acting_user=county_staff, batch=batch, line_ids=_ids(batch), paid_on=PAID_ON, voucher="YH1"
    )
    with pytest.raises(ValidationError):  # the batch is PAID now
        services.lines_mark_paid(
            acting_user=county_staff,
            batch=batch,
            line_ids=_ids(batch),
            paid_on=PAID_ON,
            voucher="YH2",
        )
    assert FundMovement.objects.filter(kind="pay").count() == 3
    assert AuditEvent.objects.filter(verb="aid_line.pay").count() == 3
    assert set(batch.lines.values_list("voucher", flat=True)) == {"YH1"}


def test_paid_lines_are_left_alone_and_lines_not_pending_are_named(walk, county_staff, funded):
    batch = walk("released")
    first, second, third = batch.lines.order_by("pk")
    services.line_mark_paid(
        acting_user=county_staff, line=first, paid_on=PAID_ON, method="bank", voucher="YH0"
    )
    services.line_mark_failed(acting_user=county_staff, line=second, reason="账户已销户")
    outcome = services.lines_mark_paid(
        acting_user=county_staff, batch=batch, line_ids=_ids(batch), paid_on=PAID_ON, voucher="YH1"
    )
    assert [x.pk for x in outcome.done] == [third.pk]
    assert [x.pk for x in outcome.already] == [first.pk]
    assert [(x.pk, why) for x, why in outcome.refused] == [
        (second.pk, "只有待发放的记录可以标记为已发放。")
    ]
    first.refresh_from_db()
    assert first.voucher == "YH0"  # a paid line is final
    assert FundMovement.objects.filter(kind="pay").count() == 2
    batch.refresh_from_db()
    assert batch.state == "paid"  # no line pending any more


@pytest.mark.parametrize(
    ("paid_on", "voucher", "field"),
    [(date(2026, 10, 20), "YH1", "paid_on"), (PAID_ON, "  ", "voucher")],
)
def test_a_future_date_or_no_voucher_pays_nothing(
    walk, county_staff, funded, paid_on, voucher, field
):
    batch = walk("released")
    with pytest.raises(ValidationError) as refused:
        services.lines_mark_paid(
            acting_user=county_staff,
            batch=batch,
            line_ids=_ids(batch),
            paid_on=paid_on,
            voucher=voucher,
        )
    assert field in refused.value.message_dict
    assert not FundMovement.objects.filter(kind="pay").exists()
    assert set(batch.lines.values_list("state", flat=True)) == {"pending"}


def test_nothing_is_paid_before_release_and_an_officer_pays_nothing(
    walk, county_staff, officer_a, funded
):
    batch = walk("in_publicity")
    with pytest.raises(ValidationError):
        services.lines_mark_paid(
            acting_user=county_staff,
            batch=batch,
            line_ids=_ids(batch),
            paid_on=PAID_ON,
            voucher="YH1",
        )
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.lines_mark_paid(
            acting_user=officer_a, batch=batch, line_ids=_ids(batch), paid_on=PAID_ON, voucher="Y"
        )
    assert set(batch.lines.values_list("state", flat=True)) == {"pending"}


def test_lines_of_another_batch_are_left_out(walk, released_with, county_staff, village_a):
    batch = walk("released")
    other = released_with(
        [make_person(village_a, name="周小英", category=AidCase.Category.STUDENT).cases.get()]
    )
    outcome = services.lines_mark_paid(
        acting_user=county_staff,
        batch=batch,
        line_ids=_ids(batch)[:1] + _ids(other),
        paid_on=PAID_ON,
        voucher="YH1",
    )
    assert len(outcome.done) == 1
    assert set(other.lines.values_list("state", flat=True)) == {"pending"}


def test_bulk_fail_gives_the_commitments_back(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    outcome = services.lines_mark_failed(
        acting_user=county_staff, batch=batch, line_ids=_ids(batch)[:2], reason="账户已销户"
    )
    assert len(outcome.done) == 2
    fund.refresh_from_db()
    failed = list(batch.lines.filter(state="failed").order_by("pk"))
    back = sum(x.amount for x in failed)
    assert fund.committed == Decimal("1500.00") - back
    assert {(x.failure_reason, x.once_key) for x in failed} == {("账户已销户", None)}
    moves = list(FundMovement.objects.filter(kind="uncommit").order_by("pk"))
    # each line's movement carries the balance right after it
    assert moves[-1].balance_after == fund.balance
    assert moves[0].balance_after == fund.balance - moves[1].amount
    assert AuditEvent.objects.filter(verb="aid_line.fail").count() == 2
    with pytest.raises(ValidationError):
        services.lines_mark_failed(
            acting_user=county_staff, batch=batch, line_ids=_ids(batch), reason=" "
        )


def test_bulk_pay_never_takes_a_total_below_zero(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    # a commitment that is not there (as a racing reversal of the release would leave)
    from django.db.models import F

    from disbursements.models import Fund

    Fund.objects.filter(pk=fund.pk).update(committed=F("committed") - 1000)
    with pytest.raises(InsufficientFunds):
        services.lines_mark_paid(
            acting_user=county_staff,
            batch=batch,
            line_ids=_ids(batch),
            paid_on=PAID_ON,
            voucher="YH1",
        )
    assert set(AidLine.objects.filter(batch=batch).values_list("state", flat=True)) == {"pending"}


def test_bulk_pay_queries_do_not_grow_with_lines(released_with, county_staff, village_a):
    def cases(prefix, n):
        return [
            make_person(
                village_a, name=f"{prefix}{i}", category=AidCase.Category.STUDENT
            ).cases.get()
            for i in range(n)
        ]

    few, many = released_with(cases("少", 2)), released_with(cases("多", 9))
    counts = []
    for batch in (few, many):
        with CaptureQueriesContext(connection) as queries:
            outcome = services.lines_mark_paid(
                acting_user=county_staff,
                batch=batch,
                line_ids=_ids(batch),
                paid_on=PAID_ON,
                voucher="YH1",
            )
        assert not outcome.refused
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert FundMovement.objects.filter(kind="pay").count() == 11


def test_the_bulk_form_pays_through_the_service_and_names_what_it_refused(
    walk, client_for, county_staff
):
    batch = walk("released")
    first = batch.lines.order_by("pk").first()
    services.line_mark_failed(acting_user=county_staff, line=first, reason="账户已销户")
    client = client_for(county_staff)
    url = reverse("batch_bulk", args=[batch.pk])
    response = client.post(url, {"action": "pay", "lines": _ids(batch), "voucher": ""})
    assert any("凭证号" in str(m) for m in get_messages(response.wsgi_request))
    response = client.post(
        url, {"action": "pay", "lines": _ids(batch), "paid_on": "2026-10-19", "voucher": "YH9"}
    )
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert "已处理 2 人。" in messages
    assert any("只有待发放的记录可以标记为已发放" in m for m in messages)
    assert AidLine.objects.filter(batch=batch, state="paid", voucher="YH9").count() == 2


def test_lock_and_approve_take_a_constant_number_of_queries(
    funded, county_staff, officer_a, approver, village_a, today
):
    from students.models import School, StudentProfile

    programme, fund = funded
    school = School.objects.create(area=village_a.parent, name="南街小学", stage="primary")
    today(date(2026, 10, 12))

    def verified(prefix: str, n: int):
        batch = services.batch_create(
            acting_user=county_staff,
            programme=programme,
            name=f"锁定测试{prefix}",
            school_year=2026,
            term="autumn",
            fund=fund,
        )
        for i in range(n):
            case = make_person(
                village_a, name=f"{prefix}{i}", category=AidCase.Category.STUDENT
            ).cases.get()
            StudentProfile.objects.create(case=case, school=school, grade="三年级")
            services.line_add(acting_user=officer_a, batch=batch, case=case)
        services.batch_start_verification(acting_user=county_staff, batch=batch)
        for line in batch.lines.all():
            services.line_verify(acting_user=county_staff, line=line, method="phone")
        return batch

    counts = []
    for batch in (verified("少", 2), verified("多", 7)):
        with CaptureQueriesContext(connection) as locking:
            services.batch_lock(acting_user=county_staff, batch=batch)
        services.batch_submit(acting_user=county_staff, batch=batch)
        with CaptureQueriesContext(connection) as approving:
            services.batch_approve(acting_user=approver, batch=batch)
        counts.append((len(locking), len(approving)))
    assert counts[0] == counts[1]
    lines = AidLine.objects.filter(batch=batch).select_related("person")
    assert {
        (x.snap_name == x.person.name, x.snap_village, x.snap_school, x.snap_grade) for x in lines
    } == {(True, "南街村", "南街小学", "三年级")}
    assert {x.once_key for x in lines} == {
        f"{programme.pk}:{x.person_id}:2026autumn" for x in lines
    }
    history = AidLineEvent.objects.filter(pgh_obj__in=lines, pgh_label="update")
    assert history.exclude(once_key=None).count() == 7
    assert {e.pgh_context.metadata["user"] for e in history} == {county_staff.pk}


@pytest.mark.django_db(transaction=True)
def test_bulk_and_single_payments_at_once_pay_each_line_once(walk, county_staff, funded):
    import threading

    _programme, fund = funded
    batch = walk("released")
    ids = _ids(batch)
    start = threading.Barrier(12)
    errors: list[Exception] = []

    def bulk(line_ids) -> None:
        try:
            start.wait()
            services.lines_mark_paid(
                acting_user=county_staff,
                batch=batch,
                line_ids=line_ids,
                paid_on=PAID_ON,
                voucher="YH1",
            )
        except ValidationError:
            pass  # the batch became PAID under another payer: nothing to do
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    def single(line) -> None:
        try:
            start.wait()
            services.line_mark_paid(
                acting_user=county_staff, line=line, paid_on=PAID_ON, method="bank", voucher="Y2"
            )
        except ValidationError:
            pass
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    first = AidLine.objects.get(pk=ids[0])
    threads = [threading.Thread(target=bulk, args=(ids[i % 3 :],)) for i in range(8)]
    threads += [threading.Thread(target=single, args=(first,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    fund.refresh_from_db()
    for line_id in ids:
        assert FundMovement.objects.filter(kind="pay", line_id=line_id).count() == 1
        assert AuditEvent.objects.filter(verb="aid_line.pay", object_id=str(line_id)).count() == 1
    assert (fund.committed, fund.paid) == (0, Decimal("1500.00"))
    batch.refresh_from_db()
    assert batch.state == "paid"
