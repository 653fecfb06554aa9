"""The batch update of existing persons (services.people_update_batch), which the
roster import commits its changed rows through: it must store what the per-row
`person_update` stores — the same person rows, the same field history (written
by the triggers, with the acting user as context) and the same audit events."""

from __future__ import annotations

from datetime import date

import pghistory.models
import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from aidcases import pii, services
from aidcases.models import AuditEvent, Person
from aidcases.people import imports as people_import
from aidcases.services import PersonData
from tests.factories import child_area, make_id_number, make_person
from tests.fixtures.rosters import write_roster


@pytest.fixture
def village_north(township_a):
    return child_area(township_a, "202", "北关村", "village")


@pytest.fixture
def people(village_a):
    return {
        "phone": make_person(village_a, name="王芳", phone="13800000001"),
        "name": make_person(village_a, name="李明", guardian_phone="13900000002"),
        "moves": make_person(village_a, name="张伟"),
        "gets_id": make_person(village_a, name="赵六", no_id_reason="尚未办理户口", gender="male"),
        "same": make_person(village_a, name="钱七", phone="13800000005"),
    }


def _changes(people, village_north) -> list[tuple[Person, PersonData]]:
    def data(person, **changes):
        base = {
            name: getattr(person, name)
            for name in ("name", "gender", "phone", "address", "guardian_name")
            + ("guardian_relationship", "guardian_phone", "notes", "no_id_reason", "birth_date")
        }
        base["area"] = person.area
        if person.has_id_number:
            base["gender"], base["birth_date"] = "", None  # derived from the stored number
        return PersonData(**{**base, **changes})

    return [
        (people["phone"], data(people["phone"], phone="13811112222")),
        (people["name"], data(people["name"], name="李小明", guardian_phone="13922223333")),
        (people["moves"], data(people["moves"], area=village_north)),
        (
            people["gets_id"],
            data(
                people["gets_id"],
                id_number=make_id_number(date(2013, 3, 4)),
                no_id_reason="",
                gender="",
            ),
        ),
        (people["same"], data(people["same"])),
    ]


def _clear(data: dict) -> list:
    """A history row's values, the ID number decrypted (each encryption differs)."""
    data = dict(data, id_number_encrypted=pii.decrypt(data["id_number_encrypted"] or ""))
    return sorted(data.items())


def _written(since_event: int, ids: list[int]) -> dict:
    """Everything an update leaves behind, without ids and times of its own."""
    rows = {
        p.pk: {
            **model_to_dict(p, exclude=["updated_at", "photo"]),
            "id_number": pii.decrypt(p.id_number_encrypted),
            "search": (p.search_tokens, p.name_sort, p.id_number_hash),
        }
        for p in Person.objects.filter(pk__in=ids)
    }
    history = sorted(
        (int(e.pgh_obj_id), e.pgh_label, _clear(e.pgh_data), e.pgh_context["user"])
        for e in pghistory.models.Events.objects.filter(
            pgh_obj_model="aidcases.Person", pgh_label="update", pgh_obj_id__in=ids
        )
    )
    audit = sorted(
        (e.verb, e.object_id, e.object_repr, e.area_id, e.actor_id, sorted(e.details.items()))
        for e in AuditEvent.objects.filter(pk__gt=since_event)
    )
    return {"rows": rows, "history": history, "audit": audit}


def _run(update) -> dict:
    ids = [p.pk for p in Person.objects.all()]
    since = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with transaction.atomic():
        update()
        written = _written(since, ids)
        transaction.set_rollback(True)  # the other path starts from the same state
    return written


def test_it_writes_what_the_per_row_service_writes(officer_a, people, village_north):
    changes = _changes(people, village_north)

    def per_row():
        for person, data in changes:
            services.person_update(acting_user=officer_a, person=person, data=data)

    def batch():
        entries = [
            services.PersonUpdateEntry(
                person=person,
                values=services.person_clean(data, existing=person, check_registered=False),
            )
            for person, data in changes
        ]
        with services.acting(officer_a):
            changed = services.people_update_batch(acting_user=officer_a, entries=entries)
        assert set(changed) == {p.pk for p in people.values()} - {people["same"].pk}

    expected, got = _run(per_row), _run(batch)
    assert got == expected
    assert len(got["history"]) == 4 and len(got["audit"]) == 4
    assert Person.objects.get(pk=people["gets_id"].pk).has_id_number is False  # rolled back


def test_it_refuses_a_move_out_of_the_users_scope(officer_a, people, village_b):
    person = people["phone"]
    data = PersonData(name=person.name, area=village_b, gender="", phone=person.phone)
    values = services.person_clean(data, existing=person, check_registered=False)
    with pytest.raises(PermissionDenied):
        services.people_update_batch(
            acting_user=officer_a,
            entries=[services.PersonUpdateEntry(person=person, values=values)],
        )


# --- through the roster import -------------------------------------------------

HEADER = ["序号", "姓名", "性别", "身份证号码", "出生日期", "所在村", "联系电话", "认定等级"]
HEADER += ["困难类型", "供养方式", "是否独居", "备注"]


def _roster(tmp_path, numbers, phone_base: int):
    rows = [
        [n, f"老人{n}", "男", number, None, "南街村", f"138{phone_base + n:08d}", "特别困难",
         "低保", "分散供养", "是", None]
        for n, number in enumerate(numbers, 1)
    ]  # fmt: skip
    return write_roster(tmp_path / f"特困{phone_base}.xlsx", HEADER, rows)


def _commit_queries(tmp_path, officer_a, township_a, count: int, seed: int) -> int:
    numbers = [make_id_number(date(1940 + seed, 1, 1 + n)) for n in range(count)]
    for path in (_roster(tmp_path, numbers, 0), _roster(tmp_path, numbers, 5000)):
        with path.open("rb") as handle:
            sheet = people_import.read(handle, path.name, "tekun")
        plan = people_import.validate(sheet, "tekun", township_a, officer_a, file_name=path.name)
        assert plan.ok, [str(i) for i in plan.errors]
        with CaptureQueriesContext(connection) as ctx:
            result = people_import.commit(plan, officer_a)
    assert result.counts["updated"] == count  # every phone changed
    return len(ctx.captured_queries)


def test_import_commits_changed_rows_in_queries_that_do_not_grow_with_rows(
    tmp_path, officer_a, township_a, village_a
):
    few = _commit_queries(tmp_path, officer_a, township_a, 3, seed=0)
    many = _commit_queries(tmp_path, officer_a, township_a, 12, seed=1)
    assert many == few
    updates = AuditEvent.objects.filter(verb="person.update")
    assert updates.count() == 15
    assert {tuple(e.details["fields"]) for e in updates} == {("phone",)}
    history = pghistory.models.Events.objects.filter(
        pgh_obj_model="aidcases.Person", pgh_label="update"
    )
    assert history.count() == 15
    assert {e.pgh_context["user"] for e in history} == {officer_a.pk}
