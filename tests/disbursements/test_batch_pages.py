"""The batch screens: who sees what, which buttons each role gets in each state, and that
every action goes through the services (errors as messages, double submits harmless)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aidcases.models import AidCase, AuditEvent
from disbursements import services
from disbursements.models import AidBatch, AidLine
from tests.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(county_staff, officer_a, funded, students, today):
    """`draft()`: a DRAFT batch of the three students, nominated by officer A."""
    programme, fund = funded
    made = []

    def make() -> AidBatch:
        today(date(2026, 10, 12))
        made.append(1)
        batch = services.batch_create(
            acting_user=county_staff,
            programme=programme,
            name=f"2026年秋季学期助学金（草稿{len(made)}）",
            school_year=2026,
            term="autumn",
            fund=fund,
        )
        for case in students:
            services.line_add(acting_user=officer_a, batch=batch, case=case)
        return batch

    return make


def _buttons(response) -> set[str]:
    html = response.content.decode()
    names = (
        "nominate suggest start_verification lock submit approve reject publicity release "
        "revise abort close"
    ).split()
    return {n for n in names if f'data-testid="act-{n}"' in html}


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_batch_list_shows_state_lines_total_and_fund(walk, client_for, county_staff):
    batch = walk("locked")
    response = client_for(county_staff).get(reverse("batch_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert batch.name in html and "名单已锁定" in html and "爱心助学基金" in html
    assert "¥1500.00" in html


def test_batch_list_filters_by_state(walk, client_for, county_staff):
    walk("locked")
    response = client_for(county_staff).get(reverse("batch_list"), {"state": "draft"})
    assert "没有符合条件的批次" in response.content.decode()


def test_team_leader_cannot_open_batches(walk, client_for, leader):
    batch = walk("verifying")
    client = client_for(leader)
    assert client.get(reverse("batch_list")).status_code == 403
    assert client.get(reverse("batch_detail", args=[batch.pk])).status_code == 404


def test_county_staff_creates_a_batch(funded, client_for, county_staff):
    programme, fund = funded
    response = client_for(county_staff).post(
        reverse("batch_create"),
        {
            "programme": programme.pk,
            "name": "2026年春季学期助学金",
            "school_year": 2026,
            "term": "spring",
            "fund": fund.pk,
        },
    )
    batch = AidBatch.objects.get(name="2026年春季学期助学金")
    assert response.status_code == 302 and response["Location"] == batch.get_absolute_url()
    assert AuditEvent.objects.filter(verb="batch.create").count() == 1


def test_a_duplicate_batch_name_is_a_message_on_the_form(walk, funded, client_for, county_staff):
    batch = walk("verifying")
    programme, fund = funded
    response = client_for(county_staff).post(
        reverse("batch_create"),
        {"programme": programme.pk, "name": batch.name, "school_year": 2026, "fund": fund.pk},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "资助批次 已经存在" in html


def test_officers_may_not_create_batches(client_for, officer_a):
    assert client_for(officer_a).get(reverse("batch_create")).status_code == 403


@pytest.mark.parametrize(
    ("until", "who", "expected"),
    [
        ("draft", "county_staff", {"nominate", "suggest", "start_verification", "abort"}),
        ("draft", "officer_a", {"nominate", "suggest"}),
        ("draft", "approver", set()),
        ("verifying", "county_staff", {"nominate", "suggest", "lock", "abort"}),
        ("verifying", "auditor", set()),
        ("locked", "county_staff", {"submit", "revise", "abort"}),
        ("locked", "officer_a", set()),
        ("in_approval", "approver", {"approve", "reject"}),
        ("in_approval", "county_staff", {"revise", "abort"}),
        ("approved", "approver", set()),  # approved this round already
        ("approved", "county_staff", {"publicity", "revise", "abort"}),
        ("in_publicity", "county_staff", {"revise", "abort"}),  # the window is not over
        ("released", "county_staff", set()),
        ("released", "officer_a", set()),
    ],
)
def test_buttons_per_state_and_role(walk, draft, client_for, request, until, who, expected):
    batch = draft() if until == "draft" else walk(until)
    user = request.getfixturevalue(who)
    response = client_for(user).get(reverse("batch_detail", args=[batch.pk]))
    assert response.status_code == 200
    assert _buttons(response) == expected


def test_release_button_once_the_window_is_over(walk, client_for, county_staff, today):
    batch = walk("in_publicity")
    today(date(2026, 10, 19))
    response = client_for(county_staff).get(reverse("batch_detail", args=[batch.pk]))
    assert "release" in _buttons(response)


def test_publicity_form_shows_the_computed_end(walk, client_for, county_staff):
    batch = walk("approved")  # today is Monday 2026-10-12
    response = client_for(county_staff).get(reverse("batch_detail", args=[batch.pk]))
    assert "2026-10-16" in response.content.decode()


def test_township_officer_sees_only_own_township_lines(
    walk, client_for, officer_a, officer_b, village_b
):
    batch = walk("verifying")
    other = make_person(village_b, name="钱东冶", category=AidCase.Category.STUDENT).cases.get()
    services.line_add(acting_user=officer_b, batch=batch, case=other)
    html = client_for(officer_a).get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert "赵小明" in html and "钱东冶" not in html


def test_the_whole_path_through_the_pages(
    draft, walk, client_for, county_staff, approver, officer_a, students, today
):
    batch = draft()
    client = client_for(county_staff)
    act = lambda name, **data: client.post(  # noqa: E731
        reverse("batch_action", args=[batch.pk, name]), data
    )
    assert act("start_verification").status_code == 302
    for line in batch.lines.all():
        client.post(reverse("line_action", args=[line.pk, "verify"]), {"method": "phone"})
    act("lock")
    act("submit")
    batch.refresh_from_db()
    assert batch.state == "in_approval"
    client_for(approver).post(reverse("batch_action", args=[batch.pk, "approve"]))
    client = client_for(county_staff)
    act("publicity", starts="2026-10-12", phone="0350-1234567", issuer="共青团青山县委")
    batch.refresh_from_db()
    assert (batch.state, batch.publicity_ends) == ("in_publicity", date(2026, 10, 16))
    today(date(2026, 10, 19))
    act("release")
    line_ids = list(batch.lines.values_list("pk", flat=True))
    response = client.post(
        reverse("batch_bulk", args=[batch.pk]),
        {"action": "pay", "lines": line_ids, "paid_on": "2026-10-19", "voucher": "YH20261019"},
    )
    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.state == "paid"
    assert AidLine.objects.filter(batch=batch, state="paid", voucher="YH20261019").count() == 3


def test_a_double_submit_is_harmless(walk, client_for, county_staff):
    batch = walk("verified")
    client = client_for(county_staff)
    url = reverse("batch_action", args=[batch.pk, "lock"])
    first, second = client.post(url), client.post(url)
    assert (first.status_code, second.status_code) == (302, 302)
    assert any("不能进行此操作" in m for m in _messages(second))
    assert AuditEvent.objects.filter(verb="batch.locked").count() == 1


def test_a_service_refusal_is_a_message(walk, client_for, county_staff):
    batch = walk("verifying")  # nobody verified yet
    response = client_for(county_staff).post(reverse("batch_action", args=[batch.pk, "lock"]))
    assert response.status_code == 302
    assert any("未核查" in m for m in _messages(response))
    batch.refresh_from_db()
    assert batch.state == "verifying"


def test_reject_needs_a_comment_and_returns_to_locked(walk, client_for, approver):
    batch = walk("in_approval")
    client = client_for(approver)
    url = reverse("batch_action", args=[batch.pk, "reject"])
    response = client.post(url, {"comment": ""})
    assert any("退回意见" in m for m in _messages(response))
    client.post(url, {"comment": "孙小刚材料不全"})
    batch.refresh_from_db()
    assert (batch.state, batch.last_comment) == ("locked", "孙小刚材料不全")


def test_an_officer_cannot_lock_or_pay(walk, client_for, officer_a):
    batch = walk("verified")
    response = client_for(officer_a).post(reverse("batch_action", args=[batch.pk, "lock"]))
    assert response.status_code == 403


def test_officer_nominates_from_the_people_list(draft, walk, client_for, officer_a, village_a):
    batch = draft()
    new = make_person(village_a, name="李小华", category=AidCase.Category.STUDENT).cases.get()
    client = client_for(officer_a)
    page = client.get(reverse("batch_nominate", args=[batch.pk]), {"q": "lixiaohua"})
    assert "李小华" in page.content.decode()
    # already in the batch: not offered
    assert (
        "赵小明"
        not in client.get(reverse("batch_nominate", args=[batch.pk]), {"q": "赵小明"})
        .content.decode()
        .split("没有找到")[0]
        .split("<tbody>")[-1]
    )
    response = client.post(reverse("batch_nominate", args=[batch.pk]), {"case": [new.pk]})
    assert response.status_code == 302
    line = batch.lines.get(person=new.person)
    assert line.amount == Decimal("500.00")  # the programme's standard for no level
    # a double submit: a message, no second line
    response = client.post(reverse("batch_nominate", args=[batch.pk]), {"case": [new.pk]})
    assert any("已在本批次" in m for m in _messages(response))
    assert batch.lines.filter(person=new.person).count() == 1


def test_officer_cannot_nominate_another_townships_case(
    draft, walk, client_for, officer_a, village_b
):
    batch = draft()
    other = make_person(village_b, name="孙东冶", category=AidCase.Category.STUDENT).cases.get()
    client = client_for(officer_a)
    assert (
        "孙东冶"
        not in client.get(reverse("batch_nominate", args=[batch.pk]), {"q": "孙东冶"})
        .content.decode()
        .split("<tbody>")[-1]
    )
    client.post(reverse("batch_nominate", args=[batch.pk]), {"case": [other.pk]})
    assert not batch.lines.filter(person=other.person).exists()


def test_suggestions_say_why_and_skip_people_in_the_batch(
    draft, walk, client_for, officer_a, village_a, funded
):
    programme, _fund = funded
    programme.levels = ["special"]
    programme.save()
    batch = draft()
    fit = make_person(village_a, name="周特困", category=AidCase.Category.STUDENT).cases.get()
    AidCase.objects.filter(pk=fit.pk).update(hardship_level="special")
    make_person(village_a, name="吴一般", category=AidCase.Category.STUDENT)
    html = client_for(officer_a).get(reverse("batch_suggest", args=[batch.pk])).content.decode()
    assert "周特困" in html and "认定等级：特别困难" in html
    assert "吴一般" not in html and "赵小明" not in html.split("<tbody>")[-1]


def test_nominate_pages_refused_once_the_list_is_locked(walk, client_for, officer_a):
    batch = walk("locked")
    assert client_for(officer_a).get(reverse("batch_suggest", args=[batch.pk])).status_code == 403


def test_warnings_shown_on_lines(walk, client_for, county_staff, funded):
    programme, _fund = funded
    programme.yearly_cap = Decimal("400")
    programme.save()
    batch = walk("verifying")
    html = client_for(county_staff).get(reverse("batch_detail", args=[batch.pk])).content.decode()
    assert html.count('data-testid="line-warning"') == 3
    assert "超过本项目每人每年上限" in html


def test_cash_payment_needs_a_receipt_and_stores_it(walk, client_for, county_staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    batch = walk("released")
    line = batch.lines.first()
    client = client_for(county_staff)
    url = reverse("line_pay", args=[line.pk])
    response = client.post(url, {"paid_on": "2026-10-19", "method": "cash"})
    assert response.status_code == 200 and "签收单" in response.content.decode()
    pdf = SimpleUploadedFile("签收单.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    response = client.post(url, {"paid_on": "2026-10-19", "method": "cash", "receipt": pdf})
    assert response.status_code == 302, response.content.decode()[:2000]
    line.refresh_from_db()
    assert line.state == "paid" and line.receipt is not None
    assert line.receipt.person_id == line.person_id


def test_reverse_a_paid_line(walk, client_for, county_staff, funded):
    batch = walk("released")
    line = batch.lines.first()
    services.line_mark_paid(
        acting_user=county_staff, line=line, paid_on=date(2026, 10, 19), method="bank", voucher="Y1"
    )
    client = client_for(county_staff)
    assert client.get(reverse("line_reverse", args=[line.pk])).status_code == 200
    client.post(reverse("line_reverse", args=[line.pk]), {"reason": "重复发放"})
    line.refresh_from_db()
    assert line.state == "reversed"


def test_batch_page_queries_do_not_grow_with_lines(walk, client_for, county_staff, village_a):
    batch = walk("verifying")
    client = client_for(county_staff)
    url = reverse("batch_detail", args=[batch.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    for i in range(12):
        case = make_person(
            village_a, name=f"测试{i}号", category=AidCase.Category.STUDENT
        ).cases.get()
        services.line_add(acting_user=county_staff, batch=batch, case=case)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_batch_list_queries_do_not_grow_with_batches(draft, walk, client_for, county_staff):
    walk("verifying")
    client = client_for(county_staff)
    client.get(reverse("batch_list"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("batch_list"))
    draft()
    walk("locked")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("batch_list"))
    assert len(many) == len(few)
