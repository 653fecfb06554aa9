"""Masked means masked (issue 7, items 1–3 and 5): what is shown together about a
person outside a logged view never narrows their ID number to fewer than
pii.MIN_ID_CANDIDATES; a database dump holds no ID tail; "already registered"
says neither who nor where and is rate-limited; a whole ID never reaches a URL."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from stdnum.cn import ric

from aidcases import pii
from aidcases.models import AidCase, AuditEvent, Job, Person
from tests.factories import make_id_number, make_person

COUNTY = "149901"
URL = "/people/"


# --- the rule itself -------------------------------------------------------------------------


def _brute_force(shown: dict, *, gender: str, dates: list[date]) -> int:
    pattern = shown.get("masked_id") or "*" * 18
    count = 0
    for birth in dates:
        for seq in range(1000):
            if seq % 2 != (1 if gender == "male" else 0):
                continue
            body = f"{COUNTY}{birth:%Y%m%d}{seq:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if all(p in ("*", c) for p, c in zip(pattern, number, strict=True)):
                count += 1
    return count


def test_id_candidates_agrees_with_enumerating_every_number():
    rng = random.Random(7)
    for _ in range(5):
        birth = date(2005, 1, 1) + timedelta(days=rng.randrange(4000))
        number = make_id_number(birth, female=rng.random() < 0.5)
        gender = "male" if int(number[16]) % 2 else "female"
        for tail in (0, 1, 2, 4):
            shown = {"masked_id": pii.mask_id_number(number, tail=tail), "birth_date": birth}
            expected = _brute_force(shown, gender=gender, dates=[birth])
            assert pii.id_candidates(shown, county_code=COUNTY, gender=gender) == expected
            assert expected >= 1  # the true number is among them


@pytest.mark.parametrize(
    ("shown", "low", "high"),
    [
        # The issue's arithmetic: age + a 4-character tail leaves ~33.
        ({"age": 13, "masked_id": "149901********6732"}, 25, 45),
        ({"age": 13, "masked_id": "149901**********32"}, 3000, 3700),
        ({"birth_year": 2012, "masked_id": "149901**********32"}, 3000, 3700),
        ({"birth_date": date(2012, 5, 17), "masked_id": "149901***********2"}, 30, 60),
        ({"birth_date": date(2012, 5, 17)}, 500, 500),
    ],
)
def test_id_candidates_does_the_issues_arithmetic(shown, low, high):
    count = pii.id_candidates(shown, county_code=COUNTY, gender="male", today=date(2025, 8, 5))
    assert low <= count <= high


def test_the_display_policy_passes_the_rule_and_the_old_one_did_not():
    number = make_id_number(date(2012, 5, 17))
    today = date(2025, 8, 5)
    policy = {"masked_id": pii.mask_id_number(number), "birth_year": 2012}
    old = {"masked_id": f"{number[:6]}********{number[-4:]}", "birth_date": date(2012, 5, 17)}
    assert pii.id_candidates(policy, county_code=COUNTY, gender="male", today=today) >= 100
    assert pii.id_candidates(old, county_code=COUNTY, gender="male", today=today) == 1


# --- what each screen and export shows, fed to the rule --------------------------------------

_MASKED_RE = re.compile(r"(?<![0-9A-Za-z*])[0-9]{6}[0-9*]{11}[0-9X*](?![0-9A-Za-z*])")
_DATE_RES = [
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
]
_YEAR_RE = re.compile(r"(\d{4})年生")
_AGE_RE = re.compile(r"(\d{1,3})\s*岁")


def shown_in(text: str) -> list[dict]:
    """Every reading of what a row of text shows about one person's ID: the masked
    form, and each date in it taken as the birth date (the reader knows which one is)."""
    base: dict = {}
    masked = _MASKED_RE.findall(text)
    if masked:
        base["masked_id"] = max(masked, key=lambda m: len(m.replace("*", "")))
    if _YEAR_RE.search(text):
        base["birth_year"] = int(_YEAR_RE.search(text).group(1))
    if _AGE_RE.search(text):
        base["age"] = int(_AGE_RE.search(text).group(1))
    readings = [base]
    for pattern in _DATE_RES:
        for y, m, d in pattern.findall(text):
            try:
                readings.append({**base, "birth_date": date(int(y), int(m), int(d))})
            except ValueError:
                continue
    return readings


def assert_cannot_rebuild(text: str, person: Person, where: str) -> None:
    """The fewest candidates any reading of `text` leaves must be at least 100 (readings
    that contradict the person's real number leave none and are not the real reading)."""
    number = pii.decrypt(person.id_number_encrypted)
    assert number not in text, where
    counts = []
    for shown in shown_in(text):
        if shown.get("birth_date") not in (None, person.birth_date):
            continue  # another date of the row (registered on, …): not the birth date
        counts.append(pii.id_candidates(shown, county_code=COUNTY, gender=person.gender))
    assert counts and min(counts) >= pii.MIN_ID_CANDIDATES, (where, text, counts)


def _text(html: str) -> str:
    """What a reader sees: the text, and the values of inputs (a date field's value too)."""
    values = lambda tag: " ".join(re.findall(r'value="([^"]*)"', tag.group(0)))  # noqa: E731
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", lambda t: f" {values(t)} ", html))


def _chunks(html: str, start: str = "<tr", end: str = "</tr>") -> list[str]:
    return [_text(part.split(end)[0]) for part in html.split(start)[1:]]


def _cards(html: str) -> list[str]:
    return _chunks(html, 'class="card mb-2"', "\n  </div>\n")


@pytest.fixture
def people(village_a):
    rng = random.Random(2026)
    made = []
    for n in range(8):
        birth = date(2006, 1, 1) + timedelta(days=rng.randrange(4500))
        female = n % 2 == 0
        made.append(
            make_person(
                village_a,
                name=f"测试{'甲乙丙丁戊己庚辛'[n]}",
                id_number=make_id_number(birth, female=female),
                phone=f"1380000{rng.randrange(10000):04d}",
                category=AidCase.Category.STUDENT,
            )
        )
    return made


def _rows_about(chunks: list[str], person: Person) -> list[str]:
    return [c for c in chunks if person.name in c]


def test_people_list_rows_and_cards_cannot_rebuild_an_id(client_for, leader, officer_a, people):
    for user in (leader, officer_a):
        html = client_for(user).get(URL).content.decode()
        for person in people:
            rows = _rows_about(_chunks(html) + _cards(html), person)
            assert len(rows) == 2
            for row in rows:
                assert_cannot_rebuild(row, person, f"people list as {user.role}")


def test_search_results_cannot_rebuild_an_id(client_for, leader, people):
    client = client_for(leader)
    for person in people:
        number = pii.decrypt(person.id_number_encrypted)
        # A leader (who may not see ID numbers) searching by name, and by ID tail: the
        # tail finds nobody by ID (it would say "this person's ID ends so").
        html = client.get(URL, {"q": person.name}).content.decode()
        for row in _rows_about(_chunks(html), person):
            assert_cannot_rebuild(row, person, "search by name")
        tail_page = client.get(URL, {"q": number[-4:]})
        assert person not in list(tail_page.context["page"].object_list)


def test_review_queue_cannot_rebuild_an_id(client_for, officer_a, village_a):
    birth = date(2012, 5, 17)
    person = make_person(village_a, name="王小明", id_number=make_id_number(birth))
    # Its namesake without an ID, listed as "same name and birth date".
    make_person(
        village_a, name="王小明", no_id_reason="户口未迁入", gender="male", birth_date=birth
    )
    html = client_for(officer_a).get(reverse("duplicate_review")).content.decode()
    pair = _text(html)
    assert "王小明" in pair
    assert_cannot_rebuild(pair, person, "review pair (both records together)")
    html = client_for(officer_a).get(reverse("duplicate_review"), {"tab": "no_id"}).content.decode()
    assert_cannot_rebuild(_text(html), person, "review: records without an ID")


def test_masked_people_export_cannot_rebuild_an_id(
    client_for, officer_a, people, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(officer_a).post(reverse("person_export"), {})
    job = Job.objects.get(kind="people_export")
    with job.result_file.open("rb") as f:
        rows = list(load_workbook(f, read_only=True).active.iter_rows(values_only=True))
    for person in people:
        row = next(r for r in rows if person.name in [str(c) for c in r])
        text = " ".join(c.isoformat() if isinstance(c, date) else str(c) for c in row if c)
        assert_cannot_rebuild(text, person, "masked people export")


def test_school_roster_cannot_rebuild_an_id(client_for, officer_a, township_a, people):
    from students import services as student_services
    from tests.factories import _system_user

    school = student_services.school_get_or_create(
        acting_user=_system_user(), name="城关小学", township=township_a, stage=""
    )[0]
    for person in people:
        student_services.student_profile_save(
            acting_user=_system_user(),
            case=person.cases.get(category=AidCase.Category.STUDENT),
            school=school,
            grade="三年级",
        )
    html = client_for(officer_a).get(reverse("school_roster", args=[school.pk])).content.decode()
    for person in people:
        for row in _rows_about(_chunks(html), person):
            assert_cannot_rebuild(row, person, "school roster")


def test_edit_form_shows_the_birth_date_beside_an_id_without_tail(client_for, officer_a, people):
    person = people[0]
    html = client_for(officer_a).get(reverse("person_edit", args=[person.pk])).content.decode()
    assert_cannot_rebuild(_text(html), person, "edit form")


# --- ID searches are logged views ------------------------------------------------------------


def test_an_id_tail_search_is_audited_without_the_tail(client_for, officer_a, people):
    number = pii.decrypt(people[0].id_number_encrypted)
    response = client_for(officer_a).get(URL, {"q": number[-4:]})
    assert people[0] in list(response.context["page"].object_list)
    event = AuditEvent.objects.get(verb="person.search_id")
    assert event.actor == officer_a and event.details["kind"] == "tail"
    assert number[-4:] not in str(event.details)


def test_a_name_search_is_not_an_id_search(client_for, officer_a, people):
    client_for(officer_a).get(URL, {"q": people[0].name})
    assert not AuditEvent.objects.filter(verb="person.search_id").exists()


# --- item 2: a dump holds no tail ------------------------------------------------------------


_HASH_TOKEN_RE = re.compile(r"^#[ip][0-9a-f]{32}$")


def _raw_values(table: str, pk_column: str, pk: int) -> list:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        columns = [c.name for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_a_database_dump_holds_no_tail_of_any_id_number(village_a, officer_a, client_for):
    numbers = [make_id_number(date(2010, 3, 4), female=True), make_id_number(date(2011, 7, 9))]
    persons = [
        make_person(village_a, name=f"尾号{n}", id_number=number, phone="13512340000")
        for n, number in enumerate(numbers)
    ]
    # An edit writes history rows too.
    person = persons[0]
    from aidcases import services

    services.person_update(
        acting_user=officer_a,
        person=person,
        data=services.PersonData(name="尾号改", area=village_a, phone="13512340000"),
    )
    opaque = {"id_number_encrypted", "id_number_hash"}  # ciphertext and HMAC
    for p, number in zip(persons, numbers, strict=True):
        rows = _raw_values("aidcases_person", "id", p.pk) + _raw_values(
            "aidcases_personevent", "pgh_obj_id", p.pk
        )
        assert rows
        for row in rows:
            for column, value in row.items():
                if column in opaque or value is None:
                    continue
                values = value if isinstance(value, list) else [value]
                # Keyed-hash tokens are opaque (hex may hold any 4 digits by chance).
                values = [v for v in values if not _HASH_TOKEN_RE.match(str(v))]
                for tail in {number[-n:] for n in range(4, 7)} | {number[-4:].lower()}:
                    for v in values:
                        assert tail not in str(v), (column, v)


def test_tail_search_still_finds_through_the_hashed_tokens(client_for, officer_a, village_a):
    number = make_id_number(date(2010, 3, 4), female=True)
    make_person(village_a, name="孙丽", id_number=number, phone="13700001111")
    client = client_for(officer_a)
    names = lambda r: [p.name for p in r.context["page"].object_list]  # noqa: E731
    assert names(client.get(URL, {"q": number[-4:]})) == ["孙丽"]
    assert names(client.get(URL, {"q": number[-6:].lower()})) == ["孙丽"]
    assert names(client.get(URL, {"q": "1111"})) == ["孙丽"]


def test_changing_the_hash_key_rehashes_the_tail_tokens(village_a, settings, officer_a, client_for):
    from django.core.management import call_command

    number = make_id_number(date(2010, 3, 4))
    make_person(village_a, name="孙丽", id_number=number, phone="13700001111")
    settings.ID_HASH_KEY = "another-hash-key-for-the-test"
    client = client_for(officer_a)
    assert not client.get(URL, {"q": number[-4:]}).context["page"].object_list
    call_command("rotate_id_key")
    assert [p.name for p in client.get(URL, {"q": number[-4:]}).context["page"].object_list] == [
        "孙丽"
    ]
    assert [p.name for p in client.get(URL, {"q": "1111"}).context["page"].object_list] == ["孙丽"]


# --- item 3: "already registered" -----------------------------------------------------------

CREATE = "/people/new/"


def _post(village, **overrides) -> dict:
    data = {"name": "赵熙晨", "area": village.pk, "phone": "", "gender": ""}
    data.update(overrides)
    return data


def test_already_registered_elsewhere_names_no_village_and_is_audited(
    client_for, officer_a, village_a, village_b
):
    number = make_id_number(date(2012, 5, 17))
    other = make_person(village_b, name="钱东冶", id_number=number)
    response = client_for(officer_a).post(CREATE, _post(village_a, id_number=number))
    html = response.content.decode()
    assert "已经登记" in html and "县团委" in html
    assert "东冶" not in html and "钱东冶" not in html
    event = AuditEvent.objects.get(verb="person.id_registered_elsewhere")
    assert event.actor == officer_a and event.object_id == str(other.pk)
    assert Person.objects.count() == 1


def test_an_officer_past_twenty_hits_an_hour_is_refused_every_lookup(
    client_for, officer_a, village_a, village_b
):
    client = client_for(officer_a)
    numbers = [make_id_number(date(2012, 5, 17)) for _ in range(21)]
    for number in numbers:
        make_person(village_b, name="钱东冶", id_number=number)
    for number in numbers[:20]:
        assert (
            "已经登记" in client.post(CREATE, _post(village_a, id_number=number)).content.decode()
        )
    # The 21st: refused, and so is a number nobody has (the refusal tells nothing).
    html = client.post(CREATE, _post(village_a, id_number=numbers[20])).content.decode()
    assert "次数过多" in html
    fresh = make_id_number(date(2013, 1, 1))
    html = client.post(CREATE, _post(village_a, id_number=fresh)).content.decode()
    assert "次数过多" in html
    assert not Person.objects.filter(area=village_a).exists()
    assert AuditEvent.objects.filter(verb="person.id_registered_elsewhere").count() == 20
    # An hour later the officer may register again.
    later = timezone.now() + timedelta(hours=1, minutes=1)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.post(CREATE, _post(village_a, id_number=fresh))
    assert response.status_code == 302


# --- item 5: a whole ID never reaches a URL --------------------------------------------------


def test_a_whole_id_search_posts_and_lands_on_an_opaque_url(client_for, officer_a, village_a):
    number = make_id_number(date(2010, 3, 4), female=True)
    make_person(village_a, name="孙丽", id_number=number)
    make_person(village_a, name="周强")
    client = client_for(officer_a)
    html = client.get(URL).content.decode()
    assert re.search(r'<form method="post"[^>]*id="people-filter"', html)
    response = client.post(URL, {"q": number, "sort": "name"})
    assert response.status_code == 302
    location = response["Location"]
    assert number not in location and number[-6:] not in location.lower()
    assert pii.id_hash(number) not in location
    page = client.get(location)
    assert [p.name for p in page.context["page"].object_list] == ["孙丽"]
    body = page.content.decode()
    assert number not in body and pii.id_hash(number) not in re.sub(
        r"<form.*?</form>", "", body, flags=re.S
    )
    assert AuditEvent.objects.filter(verb="person.search_id", details__kind="whole").exists()


def test_a_whole_id_in_a_get_url_is_moved_out_of_it(client_for, officer_a, village_a):
    number = make_id_number(date(2010, 3, 4), female=True)
    make_person(village_a, name="孙丽", id_number=number)
    client = client_for(officer_a)
    response = client.get(URL, {"q": number})
    assert response.status_code == 302 and number not in response["Location"]
    assert [p.name for p in client.get(response["Location"]).context["page"].object_list] == [
        "孙丽"
    ]


def test_the_opaque_key_is_worth_nothing_in_another_session(
    client_for, officer_a, county_staff, village_a
):
    number = make_id_number(date(2010, 3, 4), female=True)
    make_person(village_a, name="孙丽", id_number=number)
    location = client_for(officer_a).post(URL, {"q": number})["Location"]
    other = client_for(county_staff).get(location)
    assert list(other.context["page"].object_list) == []


def test_exporting_a_whole_id_search_keeps_it_out_of_the_job(client_for, officer_a, village_a):
    number = make_id_number(date(2010, 3, 4), female=True)
    make_person(village_a, name="孙丽", id_number=number)
    make_person(village_a, name="周强")
    client = client_for(officer_a)
    location = client.post(URL, {"q": number})["Location"]
    token = re.search(r"idq=([^&]+)", location).group(1)
    client.post(reverse("person_export"), {"idq": token})
    job = Job.objects.get(kind="people_export")
    assert number not in str(job.params)
    assert job.params["filters"]["idh"] == [pii.id_hash(number)]


def _export_after_search(client, query, capture):
    with capture(execute=True):
        client.post(reverse("person_export"), {"q": query})
    return Job.objects.get(kind="people_export")


def test_exporting_an_id_tail_search_stores_no_tail_and_exports_the_same_rows(
    client_for, county_staff, village_a, django_capture_on_commit_callbacks
):
    number = make_id_number(date(2010, 3, 4), female=True)
    make_person(village_a, name="孙丽", id_number=number)
    make_person(village_a, name="周强")
    client = client_for(county_staff)
    tail = number[-4:]
    listed = list(client.get(URL, {"q": tail}).context["page"].object_list)
    job = _export_after_search(client, tail, django_capture_on_commit_callbacks)
    assert job.state == Job.State.SUCCEEDED, job.error
    event = AuditEvent.objects.get(verb="person.export")
    assert tail not in str(job.params) and tail not in str(event.details)
    assert job.params["filters"]["qid"] == [pii.tail_token("id", tail)]
    with job.result_file.open("rb") as f:
        rows = list(load_workbook(f, read_only=True).active.iter_rows(values_only=True))[2:]
    assert [r[1] for r in rows] == [p.name for p in listed] == ["孙丽"]


def test_stored_tail_tokens_find_id_tails_only_for_a_role_that_may_search_them(
    officer_a, leader, village_a
):
    from django.http import QueryDict

    from aidcases import selectors
    from aidcases.people.filters import PersonFilter

    number = make_id_number(date(2010, 3, 4))
    while not number[-4:].isdigit():  # a phone shares the tail: no check character X
        number = make_id_number(date(2010, 3, 4))
    make_person(village_a, name="孙丽", id_number=number)
    make_person(village_a, name="周强", phone=f"1381234{number[-4:]}")
    tail = number[-4:]
    data = QueryDict(mutable=True)
    data.update({"qid": pii.tail_token("id", tail), "qphone": pii.tail_token("phone", tail)})

    def names(user):
        found = PersonFilter(data, queryset=selectors.people_for(user=user), user=user).qs
        return sorted(p.name for p in found)

    assert names(officer_a) == ["周强", "孙丽"]
    # a role that may not search by ID tail (or lost the right before the job ran)
    assert names(leader) == ["周强"]
