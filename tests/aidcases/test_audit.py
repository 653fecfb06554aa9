"""The audit trail: append-only rows, trigger-written field history, the audit pages and export."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import openpyxl
import pghistory
import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse

from aidcases import services
from aidcases.audit import audit_log
from aidcases.models import AreaEvent, AuditEvent, Job, Person, User, UserEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def event(admin) -> AuditEvent:
    return audit_log(actor=admin, verb="user.create", obj=admin, details={"role": "admin"})


# --- append-only audit rows ---------------------------------------------------


def assert_refused(action) -> None:
    # A savepoint, so that the refused statement does not poison the test's transaction.
    with pytest.raises(DatabaseError, match="Cannot update or delete rows"), transaction.atomic():
        action()


def test_audit_event_cannot_be_updated_through_queryset(event):
    assert_refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(verb="tampered"))

    event.refresh_from_db()
    assert event.verb == "user.create"


def test_audit_event_cannot_be_changed_by_saving_the_instance(event):
    event.details = {"role": "nobody"}

    assert_refused(event.save)

    event.refresh_from_db()
    assert event.details == {"role": "admin"}


def test_audit_event_cannot_be_deleted_through_queryset(event):
    assert_refused(lambda: AuditEvent.objects.all().delete())

    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_event_instance_cannot_be_deleted(event):
    assert_refused(event.delete)

    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE aidcases_auditevent SET verb = 'tampered' WHERE id = %s",
        "UPDATE aidcases_auditevent SET actor_id = NULL WHERE id = %s",
        "DELETE FROM aidcases_auditevent WHERE id = %s",
    ],
)
def test_audit_event_cannot_be_rewritten_with_raw_sql(event, sql):
    def run():
        with connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])

    assert_refused(run)

    event.refresh_from_db()
    assert (event.verb, event.actor_id) == ("user.create", event.actor.pk)


def test_audit_events_can_still_be_added(event, admin):
    audit_log(actor=admin, verb="user.update", obj=admin)

    assert AuditEvent.objects.count() == 2


def test_audit_event_written_by_a_service_rolls_back_with_it(admin, township_a):
    # The event and the change it describes commit or roll back together.
    with pytest.raises(RuntimeError), transaction.atomic():
        services.user_create(
            acting_user=admin,
            username="short_lived",
            password="maple-harbor-2931",
            role=User.Role.TOWNSHIP_OFFICER,
            area=township_a,
        )
        raise RuntimeError

    assert not User.objects.filter(username="short_lived").exists()
    assert not AuditEvent.objects.filter(verb="user.create").exists()


# --- field history (pghistory) ----------------------------------------------


def test_bulk_update_writes_a_history_row_per_user(officer_a, officer_b):
    User.objects.filter(pk__in=[officer_a.pk, officer_b.pk]).update(full_name="批量改名")

    events = UserEvent.objects.filter(pgh_label="update", full_name="批量改名")
    assert {e.pgh_obj_id for e in events} == {officer_a.pk, officer_b.pk}


def test_bulk_update_inside_context_names_the_acting_user(admin, officer_a, officer_b):
    with pghistory.context(user=admin.pk):
        User.objects.filter(pk__in=[officer_a.pk, officer_b.pk]).update(full_name="批量改名")

    events = UserEvent.objects.filter(pgh_label="update", full_name="批量改名")
    assert events.count() == 2
    for e in events.select_related("pgh_context"):
        assert e.pgh_context.metadata["user"] == admin.pk


def test_bulk_update_outside_any_context_has_no_acting_user(officer_a):
    User.objects.filter(pk=officer_a.pk).update(full_name="无人改名")

    event = UserEvent.objects.get(pgh_label="update", full_name="无人改名")
    assert event.pgh_context is None


def test_service_update_names_the_acting_user_in_history(admin, officer_a, township_b):
    services.user_update(
        acting_user=admin,
        user=officer_a,
        role=User.Role.TOWNSHIP_OFFICER,
        area=township_b,
        full_name="赵海峰",
    )

    event = UserEvent.objects.filter(pgh_obj=officer_a, pgh_label="update").latest("pgh_id")
    assert event.area_id == township_b.pk
    assert event.full_name == "赵海峰"
    assert event.pgh_context.metadata["user"] == admin.pk


def test_service_create_names_the_acting_user_in_history(admin, township_a):
    user = services.user_create(
        acting_user=admin,
        username="new_officer",
        password="maple-harbor-2931",
        role=User.Role.TOWNSHIP_OFFICER,
        area=township_a,
    )

    event = UserEvent.objects.get(pgh_obj=user, pgh_label="insert")
    assert event.pgh_context.metadata["user"] == admin.pk


def test_history_rows_are_append_only(officer_a):
    User.objects.filter(pk=officer_a.pk).update(full_name="改名")
    row = UserEvent.objects.filter(pgh_obj=officer_a).latest("pgh_id")

    assert_refused(lambda: UserEvent.objects.filter(pk=row.pk).update(full_name="篡改"))
    assert_refused(lambda: UserEvent.objects.filter(pk=row.pk).delete())
    assert_refused(lambda: AreaEvent.objects.filter(pgh_obj=officer_a.area).delete())

    row.refresh_from_db()
    assert row.full_name == "改名"


# --- who may see the audit pages --------------------------------------------


@pytest.mark.parametrize("role_fixture", ["admin", "auditor"])
@pytest.mark.parametrize("name", ["audit_list", "history_list"])
def test_admin_and_auditor_open_audit_pages(request, client_for, event, role_fixture, name):
    response = client_for(request.getfixturevalue(role_fixture)).get(reverse(name))

    assert response.status_code == 200
    assert "审计日志" in response.content.decode()


@pytest.mark.parametrize("role_fixture", ["officer_a", "county_staff", "approver", "leader"])
@pytest.mark.parametrize("name", ["audit_list", "history_list"])
def test_other_roles_get_403_on_audit_pages(request, client_for, role_fixture, name):
    response = client_for(request.getfixturevalue(role_fixture)).get(reverse(name))

    assert response.status_code == 403


@pytest.mark.parametrize("role_fixture", ["officer_a", "county_staff", "approver", "leader"])
def test_other_roles_cannot_export_audit(request, client_for, role_fixture):
    client = client_for(request.getfixturevalue(role_fixture))

    response = client.post(reverse("audit_export"), {"verb": "auth.login"})

    assert response.status_code == 403
    assert not Job.objects.exists()


# --- filtering ----------------------------------------------------------------


@pytest.fixture
def dated_events(admin, auditor, officer_a):
    """Events on fixed days (Shanghai time), by different actors."""

    def make(actor, verb, when, label):
        return AuditEvent.objects.create(actor=actor, verb=verb, at=when, object_repr=label)

    return {
        "jan": make(admin, "user.create", local(2024, 1, 10, 9, 0), "一月新建"),
        "feb": make(admin, "user.update", local(2024, 2, 15, 9, 0), "二月修改"),
        "feb_late": make(officer_a, "user.update", local(2024, 2, 28, 23, 30), "二月末修改"),
        # 00:30 on 29 Feb in Shanghai is still 28 Feb in UTC: must count as 29 Feb.
        "feb29": make(officer_a, "user.update", local(2024, 2, 29, 0, 30), "闰日修改"),
        "mar": make(auditor, "area.load", local(2024, 3, 20, 9, 0), "三月导入"),
    }


def shown(response) -> set[str]:
    return {e.object_repr for e in response.context["page"]}


def test_audit_list_filters_by_verb(client_for, auditor, dated_events):
    response = client_for(auditor).get(reverse("audit_list"), {"verb": "user.update"})

    assert shown(response) == {"二月修改", "二月末修改", "闰日修改"}


def test_audit_list_filters_by_actor(client_for, auditor, officer_a, dated_events):
    response = client_for(auditor).get(reverse("audit_list"), {"actor": officer_a.pk})

    assert shown(response) == {"二月末修改", "闰日修改"}


def test_audit_list_filters_by_local_date_range(client_for, auditor, dated_events):
    response = client_for(auditor).get(
        reverse("audit_list"), {"start": "2024-02-01", "end": "2024-02-28"}
    )

    assert shown(response) == {"二月修改", "二月末修改"}


def test_audit_list_combines_filters(client_for, admin, auditor, dated_events):
    response = client_for(auditor).get(
        reverse("audit_list"),
        {"verb": "user.update", "actor": admin.pk, "start": "2024-02-01", "end": "2024-03-31"},
    )

    assert shown(response) == {"二月修改"}


def test_audit_list_shows_chinese_verb_labels(client_for, auditor, dated_events):
    response = client_for(auditor).get(reverse("audit_list"), {"verb": "area.load"})

    body = response.content.decode()
    assert "导入行政区划" in body
    assert "三月导入" in body
    assert "一月新建" not in body


def test_history_list_filters_by_acting_user(client_for, admin, auditor, officer_a, township_b):
    services.user_update(
        acting_user=admin,
        user=officer_a,
        role=User.Role.TOWNSHIP_OFFICER,
        area=township_b,
        full_name="由管理员修改",
    )
    with pghistory.context(user=auditor.pk):
        User.objects.filter(pk=officer_a.pk).update(full_name="由审计员修改")
    client = client_for(auditor)

    by_admin = client.get(reverse("history_list"), {"user": admin.pk})
    everyone = client.get(reverse("history_list"))

    def changes(response) -> str:
        # The rows only: the user filter's <select> names every user too.
        return " ".join(e.diff_json for e in response.context["page"])

    assert by_admin.status_code == 200
    assert "由管理员修改" in changes(by_admin)
    assert "由审计员修改" not in changes(by_admin)
    assert "由审计员修改" in changes(everyone)
    assert "由管理员修改" in by_admin.content.decode()


def test_history_list_filters_by_change_type_and_date(client_for, auditor, officer_a):
    User.objects.filter(pk=officer_a.pk).update(full_name="今日修改")
    client = client_for(auditor)

    updates = client.get(reverse("history_list"), {"label": "update"})
    long_ago = client.get(reverse("history_list"), {"end": "2000-01-01"})

    assert updates.status_code == 200
    assert {e.pgh_label for e in updates.context["page"]} == {"update"}
    assert "今日修改" in updates.content.decode()
    assert list(long_ago.context["page"]) == []


# --- export -------------------------------------------------------------------


def read_rows(data: bytes) -> list[tuple]:
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return list(ws.iter_rows(values_only=True))


def start_export(client, django_capture_on_commit_callbacks, params):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("audit_export"), params)
    assert response.status_code == 302
    job = Job.objects.get()
    assert response.url == job.get_absolute_url()
    return job


def test_export_builds_an_xlsx_of_the_filtered_events(
    client_for, auditor, dated_events, django_capture_on_commit_callbacks
):
    client = client_for(auditor)

    job = start_export(
        client, django_capture_on_commit_callbacks, {"verb": "user.update", "page": "2"}
    )

    job.refresh_from_db()
    assert job.kind == "audit_export"
    assert job.requested_by == auditor
    assert job.params == {"verb": "user.update"}
    assert job.state == Job.State.SUCCEEDED
    assert job.result_name.endswith(".xlsx")
    rows = read_rows(job.result_file.read())
    assert rows[0][0].startswith("审计日志")  # title row
    header = list(rows[1])
    assert header[:4] == ["时间", "操作人", "登录名", "操作"]
    data = [dict(zip(header, r, strict=True)) for r in rows[2:]]
    expected = AuditEvent.objects.filter(verb="user.update").order_by("-at", "-id")
    assert [d["对象"] for d in data] == [e.object_repr for e in expected]
    assert [d["对象"] for d in data] == ["闰日修改", "二月末修改", "二月修改"]
    assert {d["操作"] for d in data} == {"修改用户"}
    assert {d["登录名"] for d in data} == {"alice_admin", "officer_a"}


def test_export_respects_actor_and_date_filters(
    client_for, admin, auditor, dated_events, django_capture_on_commit_callbacks
):
    job = start_export(
        client_for(auditor),
        django_capture_on_commit_callbacks,
        {"actor": admin.pk, "start": "2024-01-01", "end": "2024-02-29"},
    )

    job.refresh_from_db()
    data = read_rows(job.result_file.read())[2:]
    assert sorted(r[5] for r in data) == sorted(["一月新建", "二月修改"])


def test_export_is_itself_audited(
    client_for, auditor, dated_events, django_capture_on_commit_callbacks
):
    job = start_export(
        client_for(auditor), django_capture_on_commit_callbacks, {"verb": "user.update"}
    )

    created = AuditEvent.objects.get(verb="job.create")
    assert created.actor == auditor
    assert created.details == {
        "kind": "audit_export",
        "verb": "user.update",
        # whom the file is made for: checked again at every download
        "ran_for": {
            "scope": "",
            "reveals": ["aidcases.reveal_id_number", "aidcases.reveal_phone"],
        },
    }
    exported = AuditEvent.objects.get(verb="audit.export")
    assert exported.actor == auditor
    assert exported.object_id == str(job.pk)
    assert exported.details == {"rows": 3, "verb": "user.update"}


def test_export_download_is_audited_and_returns_the_file(
    client_for, auditor, dated_events, django_capture_on_commit_callbacks
):
    client = client_for(auditor)
    job = start_export(client, django_capture_on_commit_callbacks, {"verb": "area.load"})
    job.refresh_from_db()

    detail = client.get(job.get_absolute_url())
    response = client.get(reverse("job_download", args=[job.pk]))

    assert reverse("job_download", args=[job.pk]) in detail.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert [r[5] for r in read_rows(data)[2:]] == ["三月导入"]
    download = AuditEvent.objects.get(verb="job.download")
    assert download.actor == auditor
    assert download.object_id == str(job.pk)
    assert download.details == {"kind": "audit_export", "file": job.result_name}


def test_other_users_cannot_download_an_audit_export(
    client_for, client, auditor, officer_a, county_staff, dated_events,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    job = start_export(
        client_for(auditor), django_capture_on_commit_callbacks, {"verb": "user.update"}
    )

    for user in (officer_a, county_staff):
        client.force_login(user)
        assert client.get(reverse("job_download", args=[job.pk])).status_code == 404
        assert client.get(reverse("job_detail", args=[job.pk])).status_code == 404
    assert not AuditEvent.objects.filter(verb="job.download").exists()


def test_history_page_never_shows_id_ciphertext_or_hash(client_for, auditor, village_a):
    from aidcases import pii
    from tests.factories import make_id_number, make_person

    person = make_person(village_a)
    stored = Person.objects.get(pk=person.pk)
    services.person_update(
        acting_user=_system_admin(),
        person=stored,
        data=services.PersonData(name=stored.name, area=village_a, id_number=make_id_number()),
    )
    body = client_for(auditor).get(reverse("history_list")).content.decode()
    latest = Person.objects.get(pk=person.pk)
    assert latest.id_number_hash not in body
    assert latest.id_number_encrypted[:20] not in body
    assert pii.decrypt(latest.id_number_encrypted) not in body
    assert "已修改" in body  # the change is visible, its value is not


def _system_admin():
    return User.objects.get_or_create(
        username="history_admin", defaults={"role": User.Role.ADMIN, "is_superuser": True}
    )[0]


def test_history_page_reads_only_the_tables_on_the_page(client_for, auditor, officer_a):
    """One UNION ALL over every event table for the page and one for the count; then only the
    tables with rows on the page are read (two queries each: rows, predecessors) — not all ~25."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from aidcases import history

    for n in range(3):
        User.objects.filter(pk=officer_a.pk).update(full_name=f"第{n}次修改")
    assert len(history.event_models()) > 15
    client = client_for(auditor)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("history_list"))

    assert response.status_code == 200
    page = response.context["page"]
    tables = {e.model_label for e in page}
    # session, user, two permission lookups, the user filter's list, session save (3):
    # 8 around the history itself; count + page heads + actors: 3; per table shown: 2
    assert len(queries) <= 8 + 3 + 2 * len(tables)
    assert [e.raw["full_name"] for e in page if e.model_label == "aidcases.UserEvent"][:3] == [
        "第2次修改",
        "第1次修改",
        "第0次修改",
    ]
