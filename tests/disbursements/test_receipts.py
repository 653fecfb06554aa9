"""Cash and in-kind lines are paid only with a signed receipt, stored through the hub's
attachment rules (type sniffed from the content) as the person's attachment."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from aidcases.models import Attachment, AuditEvent
from disbursements import services
from disbursements.models import FundMovement

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pay(county_staff, line, method, **kw):
    return services.line_mark_paid(
        acting_user=county_staff, line=line, paid_on=date(2026, 10, 19), method=method, **kw
    )


@pytest.mark.parametrize("method", ["cash", "in_kind"])
def test_cash_and_in_kind_need_a_receipt(walk, county_staff, method):
    line = walk("released").lines.first()
    with pytest.raises(ValidationError, match="需上传签收单"):
        pay(county_staff, line, method)
    line.refresh_from_db()
    assert line.state == "pending" and not FundMovement.objects.filter(kind="pay").exists()


def test_the_receipt_is_stored_as_the_persons_attachment_and_audited(walk, county_staff):
    line = walk("released").lines.first()
    pay(county_staff, line, "in_kind", receipt_file=SimpleUploadedFile("签收单.pdf", PDF))
    line.refresh_from_db()
    receipt = line.receipt
    assert receipt.person_id == line.person_id and receipt.case_id == line.case_id
    assert receipt.kind == Attachment.Kind.DOCUMENT and receipt.title.startswith("签收单：")
    assert AuditEvent.objects.filter(verb="attachment.add", object_id=str(receipt.pk)).exists()


def test_a_file_that_is_not_a_document_is_refused_and_nothing_is_paid(walk, county_staff):
    line = walk("released").lines.first()
    fake = SimpleUploadedFile("签收单.pdf", b"MZ\x90\x00 this is a program")
    with pytest.raises(ValidationError) as caught:
        pay(county_staff, line, "cash", receipt_file=fake)
    assert "receipt" in caught.value.message_dict
    line.refresh_from_db()
    assert line.state == "pending" and not Attachment.objects.exists()


def test_another_persons_attachment_is_no_receipt(walk, county_staff, students):
    lines = list(walk("released").lines.order_by("pk"))
    pay(county_staff, lines[0], "cash", receipt_file=SimpleUploadedFile("签收单.pdf", PDF))
    lines[0].refresh_from_db()
    with pytest.raises(ValidationError, match="须是该受助人的附件"):
        pay(county_staff, lines[1], "cash", receipt=lines[0].receipt)


def test_a_bank_payment_keeps_no_receipt(walk, county_staff):
    line = walk("released").lines.first()
    pay(county_staff, line, "bank", voucher="YH1", receipt_file=SimpleUploadedFile("a.pdf", PDF))
    line.refresh_from_db()
    assert line.receipt is None and not Attachment.objects.exists()
