"""The payout list for the bank: a background job of the hub's job system (progress,
download link, scope, expiry); masked unless the role may reveal, every export audited."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from aidcases import pii
from aidcases.models import AuditEvent, Job

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(client_for, django_capture_on_commit_callbacks):
    """`export(user, batch)`: click 发放名单Excel, let the worker run the job; the job."""

    def run(user, batch):
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(user).post(reverse("batch_payout_export", args=[batch.pk]))
        job = Job.objects.filter(kind="batch_payout_export").order_by("-pk").first()
        if job is not None:
            assert response.status_code == 302
            assert response["Location"] == reverse("job_detail", args=[job.pk])
        return job

    return run


def _rows(response):
    content = b"".join(response.streaming_content)
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [list(r) for r in book.active.iter_rows(values_only=True)]


def test_county_staff_get_full_ids_and_it_is_audited_as_a_reveal(
    walk, client_for, county_staff, export
):
    batch = walk("released")
    job = export(county_staff, batch)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    assert job.result_name.startswith(f"发放名单_{batch.pk}_")
    response = client_for(county_staff).get(reverse("job_download", args=[job.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    rows = _rows(response)
    header = rows[1]
    assert header[:4] == ["序号", "收款人姓名", "身份证号码", "金额"]
    ids = {pii.decrypt(line.person.id_number_encrypted) for line in batch.lines.all()}
    assert {row[2] for row in rows[2:]} == ids
    event = AuditEvent.objects.get(verb="batch.payout_reveal")
    assert event.details["full_id"] is True and event.details["rows"] == 3
    assert AuditEvent.objects.filter(verb="job.download", object_id=str(job.pk)).exists()


def test_a_role_that_may_not_reveal_gets_masked_ids(walk, client_for, county_staff, export):
    import rules

    batch = walk("released")
    rules.remove_perm("aidcases.reveal_id_number")
    rules.add_perm("aidcases.reveal_id_number", rules.always_deny)
    try:
        job = export(county_staff, batch)
        rows = _rows(client_for(county_staff).get(reverse("job_download", args=[job.pk])))
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


def test_officers_cannot_export_the_payout_list(walk, client_for, officer_a):
    batch = walk("released")
    response = client_for(officer_a).post(reverse("batch_payout_export", args=[batch.pk]))
    assert response.status_code == 403
    assert not Job.objects.filter(kind="batch_payout_export").exists()


def test_another_user_cannot_fetch_the_payout_file(walk, client_for, county_staff, export):
    from aidcases.models import User
    from tests.factories import UserFactory

    batch = walk("released")
    job = export(county_staff, batch)
    colleague = UserFactory(username="county2", role=User.Role.COUNTY_STAFF, area=county_staff.area)
    assert client_for(colleague).get(reverse("job_download", args=[job.pk])).status_code == 404


def test_no_payout_list_before_release(walk, client_for, county_staff, export):
    batch = walk("in_publicity")
    assert export(county_staff, batch) is None
    assert not AuditEvent.objects.filter(verb__startswith="batch.payout").exists()


def test_the_job_refuses_a_batch_that_is_not_released(walk, county_staff):
    from aidcases import services as hub_services
    from aidcases.models import Job as JobModel

    batch = walk("in_publicity")
    job = hub_services.job_start(
        acting_user=county_staff, kind="batch_payout_export", params={"batch": batch.pk}
    )
    with pytest.raises(Exception, match="下达发放后才能导出发放名单"):
        hub_services.job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobModel.State.FAILED and "下达发放后" in job.error


def test_the_payout_list_opens_and_prints_in_libreoffice(
    walk, client_for, county_staff, export, tmp_path
):
    from tests.libreoffice import pdf_of

    job = export(county_staff, walk("released"))
    response = client_for(county_staff).get(reverse("job_download", args=[job.pk]))

    pdf_of(b"".join(response.streaming_content), tmp_path, "发放名单")
