"""The lock-time snapshot takes a child's school and grade from what the students app
registered with the hub (aidcases.case_details), not from its models; later profile edits
do not change a frozen list."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aidcases import case_details
from students import services as student_services
from tests.factories import _system_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def school(township_a):
    return student_services.school_get_or_create(
        acting_user=_system_user(), name="城关中学", township=township_a, stage="junior"
    )[0]


def test_the_snapshot_keeps_school_and_grade_as_they_were_at_the_lock(
    walk, county_staff, students, school, township_a
):
    for case, grade in zip(students, ("初一", "初二", "初三"), strict=True):
        student_services.student_profile_save(
            acting_user=_system_user(), case=case, school=school, grade=grade
        )
    batch = walk("locked")
    snaps = dict(batch.lines.values_list("person__name", "snap_grade"))
    assert snaps == {"赵小明": "初一", "钱小红": "初二", "孙小刚": "初三"}
    assert set(batch.lines.values_list("snap_school", flat=True)) == {"城关中学"}
    other = student_services.school_get_or_create(
        acting_user=_system_user(), name="城关二中", township=township_a, stage="junior"
    )[0]
    student_services.student_profile_save(
        acting_user=_system_user(), case=students[0], school=other, grade="初二"
    )
    line = batch.lines.get(person=students[0].person)
    assert (line.snap_school, line.snap_grade) == ("城关中学", "初一")


def test_the_registry_reads_all_cases_at_once_and_the_first_provider_wins(
    students, school, monkeypatch
):
    student_services.student_profile_save(
        acting_user=_system_user(), case=students[0], school=school, grade="初一"
    )
    ids = [c.pk for c in students]
    with CaptureQueriesContext(connection) as queries:
        found = case_details.for_cases(ids)
    assert found == {students[0].pk: {"school": "城关中学", "grade": "初一"}}
    assert len(queries) == 2  # one per profile kind, whatever the number of cases

    def late(case_ids):
        return {i: {"school": "别的学校", "grade": "", "village": "不是登记的键"} for i in case_ids}

    monkeypatch.setattr(case_details, "_PROVIDERS", [*case_details._PROVIDERS, late])
    found = case_details.for_cases(ids)
    assert found[students[0].pk] == {"school": "城关中学", "grade": "初一"}
    assert found[students[1].pk] == {"school": "别的学校"}
    assert case_details.for_cases([]) == {}


def test_a_case_without_a_profile_snapshots_no_school(walk, students):
    batch = walk("locked")
    assert set(batch.lines.values_list("snap_school", "snap_grade")) == {("", "")}
