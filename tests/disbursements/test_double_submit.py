"""A double-submitted money form is harmless: each form carries a one-time token that the
service claims in its own transaction (services/submit_keys.py); the same token again gets
back what the first submission made. Paying and failing a line key on the line's state."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from aidcases.models import Attachment, AuditEvent
from disbursements import services
from disbursements.models import (
    AidBatch,
    AidLine,
    Fund,
    FundEntry,
    FundingSource,
    FundMovement,
    Reversal,
    SubmitKey,
)
from disbursements.services import FundEntryData

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _token(html: str) -> str:
    found = re.search(r'name="client_token" value="([0-9a-f-]{36})"', html)
    assert found, "the form carries no one-time token"
    return found.group(1)


def test_the_entry_form_sent_twice_makes_one_draft(client_for, county_staff):
    source = FundingSource.objects.create(kind="charity", name="慈善总会")
    fund = services.fund_create(acting_user=county_staff, name="爱心助学基金")
    client = client_for(county_staff)
    token = _token(client.get(reverse("entry_create")).content.decode())
    data = {
        "source": source.pk,
        "fund": fund.pk,
        "amount": "5000",
        "received_on": "2026-09-01",
        "receipt_state": "not_needed",
        "client_token": token,
    }
    first = client.post(reverse("entry_create"), data)
    second = client.post(reverse("entry_create"), data)
    entry = FundEntry.objects.get()
    assert first["Location"] == second["Location"] == reverse("entry_detail", args=[entry.pk])
    assert AuditEvent.objects.filter(verb="fund_entry.create").count() == 1
    # a new page is a new token: a second, deliberate entry is still possible
    data["client_token"] = _token(client.get(reverse("entry_create")).content.decode())
    client.post(reverse("entry_create"), data)
    assert FundEntry.objects.count() == 2


def test_the_batch_form_sent_twice_makes_one_batch(client_for, county_staff, funded):
    programme, fund = funded
    client = client_for(county_staff)
    token = _token(client.get(reverse("batch_create")).content.decode())
    data = {
        "programme": programme.pk,
        "name": "2026年秋季学期困难学生助学金",
        "school_year": 2026,
        "term": "autumn",
        "fund": fund.pk,
        "client_token": token,
    }
    first = client.post(reverse("batch_create"), data)
    second = client.post(reverse("batch_create"), data)
    batch = AidBatch.objects.get()
    assert first.status_code == second.status_code == 302
    assert second["Location"] == batch.get_absolute_url()
    assert AuditEvent.objects.filter(verb="batch.create").count() == 1


def test_the_nominate_form_sent_twice_adds_each_person_once_without_errors(
    client_for, officer_a, county_staff, funded, students
):
    programme, fund = funded
    batch = services.batch_create(
        acting_user=county_staff, programme=programme, name="批次", school_year=2026, fund=fund
    )
    client = client_for(officer_a)
    page = client.get(reverse("batch_nominate", args=[batch.pk]), {"q": ""}).content.decode()
    data = {"case": [c.pk for c in students], "client_token": _token(page)}
    client.post(reverse("batch_nominate", args=[batch.pk]), data)
    again = client.post(reverse("batch_nominate", args=[batch.pk]), data, follow=True)
    html = again.content.decode()
    assert "已提名 3 人" in html and "此人已在本批次名单中" not in html
    assert batch.lines.count() == 3
    assert AuditEvent.objects.filter(verb="aid_line.add").count() == 3


def test_a_reversal_sent_twice_returns_the_money_once(walk, client_for, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    line = batch.lines.first()
    services.line_mark_paid(
        acting_user=county_staff, line=line, paid_on=date(2026, 10, 19), method="bank", voucher="Y"
    )
    fund.refresh_from_db()
    balance = fund.balance
    client = client_for(county_staff)
    url = reverse("line_reverse", args=[line.pk])
    data = {"reason": "重复发放", "client_token": _token(client.get(url).content.decode())}
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == second.status_code == 302
    fund.refresh_from_db()
    assert fund.balance == balance + line.amount  # the money came back once
    assert fund.paid == Decimal("0")
    assert Reversal.objects.count() == 1
    assert FundMovement.objects.filter(kind="reversal").count() == 1


def test_a_cash_payment_sent_twice_stores_one_receipt_and_pays_once(
    walk, client_for, county_staff, funded
):
    _programme, fund = funded
    batch = walk("released")
    line = batch.lines.first()
    client = client_for(county_staff)
    url = reverse("line_pay", args=[line.pk])
    for _ in range(2):
        receipt = SimpleUploadedFile("签收单.pdf", PDF)
        response = client.post(url, {"paid_on": "2026-10-19", "method": "cash", "receipt": receipt})
        assert response.status_code == 302
    line.refresh_from_db()
    assert line.state == "paid" and line.receipt is not None
    assert Attachment.objects.filter(person=line.person).count() == 1
    assert FundMovement.objects.filter(kind="pay", line=line).count() == 1
    page = client.get(batch.get_absolute_url()).content.decode()
    assert reverse("attachment_download", args=[line.receipt_id]) in page


def test_a_failed_mark_sent_twice_returns_the_commitment_once(walk, county_staff, funded):
    _programme, fund = funded
    batch = walk("released")
    line = batch.lines.first()
    for _ in range(2):
        services.line_mark_failed(acting_user=county_staff, line=line, reason="账户冻结")
    assert FundMovement.objects.filter(kind="uncommit", line=line).count() == 1
    assert AuditEvent.objects.filter(verb="aid_line.fail").count() == 1


def test_a_failed_write_does_not_use_up_its_token(county_staff):
    source = FundingSource.objects.create(kind="charity", name="慈善总会")
    fund = services.fund_create(acting_user=county_staff, name="爱心助学基金")
    token = str(uuid.uuid4())
    data = FundEntryData(
        source=source, fund=fund, amount=Decimal("100"), received_on=date(2099, 1, 1)
    )
    with pytest.raises(ValidationError):
        services.fund_entry_create(acting_user=county_staff, data=data, client_token=token)
    assert not SubmitKey.objects.exists()
    fixed = FundEntryData(
        source=source, fund=fund, amount=Decimal("100"), received_on=date(2026, 9, 1)
    )
    entry = services.fund_entry_create(acting_user=county_staff, data=fixed, client_token=token)
    assert SubmitKey.objects.get().object_id == entry.pk


def test_another_users_token_is_refused(county_staff, county):
    from aidcases.models import User
    from tests.factories import UserFactory

    other = UserFactory(username="county2", role=User.Role.COUNTY_STAFF, area=county)
    source = FundingSource.objects.create(kind="charity", name="慈善总会")
    fund = services.fund_create(acting_user=county_staff, name="爱心助学基金")
    data = FundEntryData(
        source=source, fund=fund, amount=Decimal("100"), received_on=date(2026, 9, 1)
    )
    token = str(uuid.uuid4())
    services.fund_entry_create(acting_user=county_staff, data=data, client_token=token)
    with pytest.raises(ValidationError, match="表单已失效"):
        services.fund_entry_create(acting_user=other, data=data, client_token=token)
    assert FundEntry.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_copies_of_one_nomination_at_once_add_one_line(
    county_staff, officer_a, funded, students
):
    programme, fund = funded
    batch = services.batch_create(
        acting_user=county_staff, programme=programme, name="批次", school_year=2026, fund=fund
    )
    token = f"{uuid.uuid4()}:{students[0].pk}"
    start = threading.Barrier(20)
    made: list[int] = []
    errors: list[Exception] = []

    def nominate() -> None:
        try:
            start.wait()
            line = services.line_add(
                acting_user=officer_a, batch=batch, case=students[0], client_token=token
            )
            made.append(line.pk)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=nominate) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(made)) == 1 and len(made) == 20
    assert AidLine.objects.filter(batch=batch).count() == 1
    assert AuditEvent.objects.filter(verb="aid_line.add").count() == 1
    assert Fund.objects.get(pk=fund.pk).committed == 0
