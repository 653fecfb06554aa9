"""The duplicate review queue (疑似重复): candidates, merge, mark distinct."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from aidcases import pii, review, services
from aidcases.models import AidCase, Attachment, DistinctPersons, Person, PersonRelation
from tests.factories import _system_user, make_id_number, make_person

BIRTH = date(2014, 6, 1)
REVIEW = "duplicate_review"


def _no_id(area, name, **fields):
    fields.setdefault("gender", "male")
    fields.setdefault("no_id_reason", "户口未登记")
    return make_person(area, name=name, **fields)


def _pairs(user, kind=""):
    return [(p.a.person.pk, p.b.person.pk) for p in review.duplicate_pairs(user=user, kind=kind)[:]]


def _pair(a, b):
    return tuple(sorted((a.pk, b.pk)))


# --- candidates -----------------------------------------------------------------


def test_queue_lists_people_without_id_number_with_their_reason(client_for, officer_a, village_a):
    _no_id(village_a, "无证儿", no_id_reason="刚出生未办理")
    make_person(village_a, name="有证儿")
    response = client_for(officer_a).get(reverse(REVIEW), {"tab": "no_id"})
    assert response.status_code == 200
    assert [p.name for p in response.context["page"]] == ["无证儿"]
    assert "刚出生未办理" in response.content.decode()


def test_same_name_and_birth_date_is_a_candidate(officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    make_person(village_a, name="王小明", birth=date(2015, 1, 1))
    assert _pairs(officer_a) == [_pair(a, b)]
    pair = review.duplicate_pairs(user=officer_a)[0]
    assert pair.kinds == ["name_birth"] and not pair.ids_differ


def test_same_guardian_phone_and_same_surname_is_a_candidate(officer_a, village_a):
    a = make_person(village_a, name="王小明", guardian_phone="13812345678")
    b = _no_id(village_a, "王晓明", guardian_phone="138 1234 5678")
    assert _pairs(officer_a, "guardian_phone") == [_pair(a, b)]


def test_same_guardian_phone_and_names_sharing_two_characters_is_a_candidate(officer_a, village_a):
    a = make_person(village_a, name="张小明", guardian_phone="13812345678")
    b = _no_id(village_a, "李小明", guardian_phone="13812345678")
    assert _pairs(officer_a) == [_pair(a, b)]


@pytest.mark.parametrize(
    ("first", "second"), [("王明", "汪明"), ("明", "汪明"), ("欧阳明", "阳明")]
)
def test_same_guardian_phone_and_names_one_edit_apart_is_a_candidate(
    officer_a, village_a, first, second
):
    a = make_person(village_a, name=first, guardian_phone="13812345678")
    b = _no_id(village_a, second, guardian_phone="13812345678")
    assert _pairs(officer_a) == [_pair(a, b)]


def test_siblings_with_their_own_id_numbers_are_not_candidates(officer_a, village_a):
    # Same guardian phone and surname, but two ID numbers: two people.
    make_person(village_a, name="王小明", guardian_phone="13812345678")
    make_person(village_a, name="王小红", guardian_phone="13812345678")
    assert _pairs(officer_a) == []


def test_two_records_without_id_sharing_guardian_phone_are_listed_once(officer_a, village_a):
    a = _no_id(village_a, "王小明", guardian_phone="13812345678")
    b = _no_id(village_a, "王晓明", guardian_phone="13812345678")
    pairs = review.duplicate_pairs(user=officer_a)[:]
    assert [(p.a.person.pk, p.b.person.pk) for p in pairs] == [_pair(a, b)]
    assert pairs[0].kinds == ["guardian_phone"]


def test_same_guardian_phone_with_unrelated_names_is_not_a_candidate(officer_a, village_a):
    make_person(village_a, name="王小明", guardian_phone="13812345678")
    _no_id(village_a, "李大红", guardian_phone="13812345678")
    assert _pairs(officer_a) == []


def test_empty_guardian_phones_do_not_pair_people(officer_a, village_a):
    make_person(village_a, name="王小明")
    _no_id(village_a, "王晓红")
    assert _pairs(officer_a) == []


def test_pair_matching_both_rules_is_listed_once_with_both_reasons(officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH, guardian_phone="13812345678")
    _no_id(village_a, "王小明", birth_date=BIRTH, guardian_phone="13812345678")
    pairs = review.duplicate_pairs(user=officer_a)[:]
    assert len(pairs) == 1
    assert pairs[0].kinds == ["guardian_phone", "name_birth"]
    assert pairs[0].a.person == a


def test_pairs_with_a_record_lacking_an_id_come_before_pairs_of_two_id_numbers(
    officer_a, village_a
):
    twins = (
        make_person(village_a, name="赵双", birth=BIRTH),
        make_person(village_a, name="赵双", birth=BIRTH),
    )
    likely = (
        make_person(village_a, name="钱单", birth=BIRTH),
        _no_id(village_a, "钱单", birth_date=BIRTH),
    )
    pairs = review.duplicate_pairs(user=officer_a)[:]
    assert [(p.a.person.pk, p.b.person.pk) for p in pairs] == [_pair(*likely), _pair(*twins)]
    assert pairs[1].ids_differ


def test_distinct_marked_pair_is_not_a_candidate(officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    services.person_mark_distinct(acting_user=officer_a, a=b, b=a)
    assert _pairs(officer_a) == []


def test_merged_and_inactive_people_are_not_candidates(officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    c = _no_id(village_a, "王小明", birth_date=BIRTH)
    services.person_merge(acting_user=officer_a, keep=a, drop=b)
    services.person_set_active(acting_user=officer_a, person=c, active=False)
    assert _pairs(officer_a) == []
    assert list(review.people_without_id(user=officer_a)) == []


def test_pairs_reaching_outside_the_officers_township_are_not_shown(
    officer_a, county_staff, village_a, village_b
):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_b, "王小明", birth_date=BIRTH)
    assert _pairs(officer_a) == []
    assert _pairs(county_staff) == [_pair(a, b)]


def test_review_page_shows_both_records_side_by_side_masked(client_for, officer_a, village_a):
    number = make_id_number(BIRTH)
    make_person(village_a, name="王小明", id_number=number, guardian_phone="13812345678")
    _no_id(village_a, "王小明", birth_date=BIRTH, no_id_reason="户口未迁入", guardian_name="王奶奶")
    response = client_for(officer_a).get(reverse(REVIEW))
    body = response.content.decode()
    assert body.count('data-testid="pair-person"') == 2
    assert number not in body and pii.mask_id_number(number) in body
    assert "13812345678" not in body and "138****5678" in body
    assert "户口未迁入" in body and "王奶奶" in body and "南街村" in body
    assert "困难学生" not in body
    assert "监护人电话相同，姓名相近" in body and "姓名、出生日期相同" in body


def test_review_page_query_count_does_not_grow_with_pairs(
    client_for, county_staff, village_a, django_assert_max_num_queries
):
    client = client_for(county_staff)

    def add_pairs(n, start):
        for i in range(start, start + n):
            make_person(village_a, name=f"重{i}", birth=BIRTH, category="student")
            _no_id(village_a, f"重{i}", birth_date=BIRTH)

    add_pairs(3, 0)
    with django_assert_max_num_queries(50) as small:
        client.get(reverse(REVIEW))
    add_pairs(17, 3)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(reverse(REVIEW))
    assert len(response.context["page"].object_list) == 20
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse(REVIEW), {"tab": "no_id"})


def test_review_queue_paginates(client_for, county_staff, village_a):
    for i in range(22):
        make_person(village_a, name=f"重{i}", birth=BIRTH)
        _no_id(village_a, f"重{i}", birth_date=BIRTH)
    client = client_for(county_staff)
    first = client.get(reverse(REVIEW)).context["page"]
    second = client.get(reverse(REVIEW), {"page": 2}).context["page"]
    assert first.paginator.count == 22
    assert len(first.object_list) == 20 and len(second.object_list) == 2
    seen = {(p.a.person.pk, p.b.person.pk) for p in [*first.object_list, *second.object_list]}
    assert len(seen) == 22


# --- permissions ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["leader", "auditor", "approver"])
def test_roles_without_merge_people_get_403(request, client_for, who, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    client = client_for(request.getfixturevalue(who))
    assert client.get(reverse(REVIEW)).status_code == 403
    assert client.get(reverse("person_merge"), {"a": a.pk, "b": b.pk}).status_code == 403
    assert client.post(reverse("person_merge"), {"keep": a.pk, "drop": b.pk}).status_code == 403
    assert client.post(reverse("person_distinct"), {"a": a.pk, "b": b.pk}).status_code == 403
    b.refresh_from_db()
    assert b.is_active and not DistinctPersons.objects.exists()


def test_officer_cannot_merge_or_separate_people_of_another_township(
    client_for, officer_b, village_a
):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    client = client_for(officer_b)
    assert client.get(reverse("person_merge"), {"a": a.pk, "b": b.pk}).status_code == 404
    assert client.post(reverse("person_merge"), {"keep": a.pk, "drop": b.pk}).status_code == 404
    assert client.post(reverse("person_distinct"), {"a": a.pk, "b": b.pk}).status_code == 404
    b.refresh_from_db()
    assert b.is_active and not DistinctPersons.objects.exists()


# --- merge ------------------------------------------------------------------------


def _attachment(person, case=None):
    return Attachment.objects.create(
        person=person,
        case=case,
        kind=Attachment.Kind.DOCUMENT,
        file=ContentFile(b"%PDF-1.4 test", name="proof.pdf"),
        original_name="低保证.pdf",
        content_type="application/pdf",
        extension=".pdf",
        size=13,
        sha256="0" * 64,
        uploaded_by=_system_user(),
    )


def test_merge_confirmation_page_suggests_keeping_the_record_with_an_id(
    client_for, officer_a, village_a
):
    keep = make_person(village_a, name="王小明", birth=BIRTH)
    drop = _no_id(village_a, "王小明", birth_date=BIRTH)
    response = client_for(officer_a).get(reverse("person_merge"), {"a": drop.pk, "b": keep.pk})
    assert response.status_code == 200
    assert response.context["suggested"] == keep
    assert "合并后不能撤销" in response.content.decode()


def test_merge_repoints_cases_attachments_and_relations(client_for, officer_a, village_a):
    keep = make_person(village_a, name="王小明", birth=BIRTH, category="student")
    drop = _no_id(
        village_a, "王小明", birth_date=BIRTH, category="left_behind", guardian_phone="13812345678"
    )
    sibling = make_person(village_a, name="王小红", birth=date(2016, 1, 1))
    drop_case = drop.cases.get()
    attachment = _attachment(drop, drop_case)
    own_relation = PersonRelation.objects.create(person=drop, kind="father", name="王大山")
    pointing_relation = PersonRelation.objects.create(
        person=sibling, kind="sibling", related_person=drop
    )

    response = client_for(officer_a).post(
        reverse("person_merge"),
        {"a": keep.pk, "b": drop.pk, "keep": keep.pk, "next": reverse(REVIEW)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse(REVIEW)
    assert "已合并" in response.content.decode()

    drop.refresh_from_db()
    keep.refresh_from_db()
    assert not drop.is_active and drop.merged_into == keep
    assert set(keep.cases.values_list("category", flat=True)) == {"student", "left_behind"}
    drop_case.refresh_from_db()
    assert drop_case.person == keep and drop_case.status == "open"
    attachment.refresh_from_db()
    assert attachment.person == keep
    own_relation.refresh_from_db()
    pointing_relation.refresh_from_db()
    assert own_relation.person == keep and pointing_relation.related_person == keep
    assert keep.guardian_phone == "13812345678"  # filled in from the dropped record
    assert _pairs(officer_a) == []


def test_merge_closes_the_dropped_records_duplicate_open_case(officer_a, client_for, village_a):
    keep = make_person(village_a, name="王小明", birth=BIRTH, category="student")
    drop = _no_id(village_a, "王小明", birth_date=BIRTH, category="student")
    page = client_for(officer_a).get(reverse("person_merge"), {"a": keep.pk, "b": drop.pk})
    assert "困难学生" in page.context["conflicts"]
    client_for(officer_a).post(reverse("person_merge"), {"keep": keep.pk, "drop": drop.pk})
    cases = AidCase.objects.filter(person=keep)
    assert sorted(cases.values_list("status", flat=True)) == ["closed", "open"]
    assert cases.get(status="closed").closed_reason == "合并重复记录"


def test_merge_refuses_two_different_id_numbers(client_for, officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = make_person(village_a, name="王小明", birth=BIRTH)
    client = client_for(officer_a)
    page = client.get(reverse("person_merge"), {"a": a.pk, "b": b.pk})
    assert "身份证号码不同，不是同一人，不能合并" in page.content.decode()
    assert "确认合并" not in page.content.decode()
    response = client.post(reverse("person_merge"), {"keep": a.pk, "drop": b.pk}, follow=True)
    assert "两条记录的身份证号码不同，不是同一人，不能合并" in response.content.decode()
    b.refresh_from_db()
    assert b.is_active and b.merged_into is None


def test_merge_into_an_already_merged_record_is_refused(client_for, officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    c = _no_id(village_a, "王小明", birth_date=BIRTH)
    services.person_merge(acting_user=officer_a, keep=a, drop=b)
    response = client_for(officer_a).post(
        reverse("person_merge"), {"keep": b.pk, "drop": c.pk}, follow=True
    )
    assert "已停用或已合并" in response.content.decode()
    c.refresh_from_db()
    assert c.is_active


def test_merge_with_itself_is_refused(client_for, officer_a, village_a):
    a = make_person(village_a, name="王小明")
    response = client_for(officer_a).post(
        reverse("person_merge"), {"keep": a.pk, "drop": a.pk}, follow=True
    )
    assert "不能把记录与自己合并" in response.content.decode()


def test_merge_ignores_an_offsite_next_url(client_for, officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    response = client_for(officer_a).post(
        reverse("person_merge"), {"keep": a.pk, "drop": b.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse(REVIEW)


# --- not the same person ------------------------------------------------------------


def test_mark_distinct_removes_the_pair_from_the_queue(client_for, officer_a, village_a):
    a = make_person(village_a, name="王小明", birth=BIRTH)
    b = _no_id(village_a, "王小明", birth_date=BIRTH)
    client = client_for(officer_a)
    assert len(client.get(reverse(REVIEW)).context["page"].object_list) == 1
    response = client.post(reverse("person_distinct"), {"a": b.pk, "b": a.pk}, follow=True)
    assert "不是同一人" in response.content.decode()
    assert len(response.context["page"].object_list) == 0
    assert DistinctPersons.objects.filter(person_a=a, person_b=b).exists()
    assert Person.objects.filter(is_active=True).count() >= 2


def test_mark_distinct_needs_post(client_for, officer_a):
    assert client_for(officer_a).get(reverse("person_distinct")).status_code == 405
