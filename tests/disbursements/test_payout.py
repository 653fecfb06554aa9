"""The payout list for the bank: masked unless the role may reveal, every download audited."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aidcases import pii
from aidcases.models import AuditEvent

pytestmark = pytest.mark.django_db


def _rows(response):
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def test_county_staff_get_full_ids_and_it_is_audited_as_a_reveal(walk, client_for, county_staff):
    batch = walk("released")
    response = client_for(county_staff).get(reverse("batch_payout_xlsx", args=[batch.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    rows = _rows(response)
    header = rows[1]
    assert header[:4] == ["序号", "收款人姓名", "身份证号码", "金额"]
    ids = {pii.decrypt(line.person.id_number_encrypted) for line in batch.lines.all()}
    assert {row[2] for row in rows[2:]} == ids
    event = AuditEvent.objects.get(verb="batch.payout_reveal")
    assert event.details["full_id"] is True and event.details["rows"] == 3


def test_a_role_that_may_not_reveal_gets_masked_ids(walk, client_for, county_staff, settings):
    import rules

    batch = walk("released")
    rules.remove_perm("aidcases.reveal_id_number")
    rules.add_perm("aidcases.reveal_id_number", rules.always_deny)
    try:
        rows = _rows(client_for(county_staff).get(reverse("batch_payout_xlsx", args=[batch.pk])))
    finally:
        from aidcases.rules import (
            is_admin,
            is_approver,
            is_auditor,
            is_county_staff,
            is_township_officer,
        )

        rules.remove_perm("aidcases.reveal_id_number")
        rules.add_perm(
            "aidcases.reveal_id_number",
            is_admin | is_county_staff | is_township_officer | is_approver | is_auditor,
        )
    assert rows[1][2] == "身份证号码（部分隐藏）"
    for row in rows[2:]:
        assert "*" in row[2] and len(row[2]) == 18
    full = {pii.decrypt(line.person.id_number_encrypted) for line in batch.lines.all()}
    assert not full & {row[2] for row in rows[2:]}
    assert AuditEvent.objects.filter(verb="batch.payout_export").count() == 1


def test_officers_cannot_download_the_payout_list(walk, client_for, officer_a):
    batch = walk("released")
    assert (
        client_for(officer_a).get(reverse("batch_payout_xlsx", args=[batch.pk])).status_code == 403
    )


def test_no_payout_list_before_release(walk, client_for, county_staff):
    batch = walk("in_publicity")
    response = client_for(county_staff).get(reverse("batch_payout_xlsx", args=[batch.pk]))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(verb__startswith="batch.payout").exists()
