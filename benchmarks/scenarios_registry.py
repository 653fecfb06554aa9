"""The beneficiary registry at province scale: 200,000 persons with cases and
profiles, bulk-loaded (names drawn from a pool so pinyin tokens are computed
once per distinct name)."""

from __future__ import annotations

import random
import time
from datetime import date, timedelta

from django.db import connection, transaction

from aidcases import pii, selectors
from aidcases.models import AidCase, Area, Person, TekunProfile, User
from aidcases.people.filters import DEFAULT_SORT, SORTS
from aidcases.search import person_tokens, sort_key
from aidcases.seeding import GIVEN, SURNAMES, demo_id_number

PERSONS = 200_000
BATCH = 5_000


def _names(rng: random.Random, count: int) -> list[str]:
    names = set()
    while len(names) < count:
        given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        names.add(rng.choice(SURNAMES) + given)
    return sorted(names)


def populate() -> dict:
    from students.models import LeftBehindProfile, School, StudentProfile

    existing = Person.objects.filter(area__code__startswith="1498").count()
    if existing >= PERSONS:
        return _sizes()
    rng = random.Random(2026 + existing)  # a resumed load draws new numbers
    seen = set(Person.objects.exclude(id_number_hash=None).values_list("id_number_hash", flat=True))
    villages = list(Area.objects.filter(level="village", code__startswith="1498"))
    townships = list(Area.objects.filter(level="township", code__startswith="1498"))
    schools = {}
    for t in townships:
        for stage, label in (("primary", "小学"), ("junior", "中学")):
            school, _ = School.objects.get_or_create(
                area=t, name=f"{t.name}{label}", defaults={"stage": stage}
            )
            schools.setdefault(t.pk, []).append(school)
    admin = User.objects.get(username="admin")
    name_pool = _names(rng, 6000)
    token_cache: dict[str, list[str]] = {}
    sort_keys: dict[str, str] = {}
    start = time.perf_counter()
    made = existing
    with connection.cursor() as cursor:
        # Bulk load: history triggers would double the work and record nothing useful.
        cursor.execute("SET session_replication_role = replica")
    try:
        while made < PERSONS:
            people, categories = [], []
            for _ in range(min(BATCH, PERSONS - made)):
                category = rng.choices(["student", "left_behind", "tekun"], weights=[5, 3, 2])[0]
                years = (1940, 1968) if category == "tekun" else (2008, 2019)
                birth = date(years[0], 1, 1) + timedelta(
                    days=rng.randrange(365 * (years[1] - years[0]))
                )
                female = rng.random() < 0.5
                number = demo_id_number(rng, birth, female=female, area=f"1498{made % 97:02d}")
                digest = pii.id_hash(number)
                if digest in seen:
                    continue
                seen.add(digest)
                name = rng.choice(name_pool)
                phone = f"13{rng.randrange(10**9):09d}"
                if name not in token_cache:
                    token_cache[name] = person_tokens(name=name)
                tokens = sorted(
                    set(token_cache[name])
                    | {
                        pii.tail_token("id", number[-4:]),
                        pii.tail_token("id", number[-6:]),
                        pii.tail_token("phone", phone[-4:]),
                    }
                )
                people.append(
                    Person(
                        name=name,
                        gender="female" if female else "male",
                        id_number_encrypted=pii.encrypt(number),
                        id_number_hash=digest,
                        birth_date=birth,
                        phone=phone,
                        area=rng.choice(villages),
                        search_tokens=tokens,
                        name_sort=sort_keys.setdefault(name, sort_key(name)),
                        created_by=admin,
                    )
                )
                categories.append(category)
            with transaction.atomic():
                Person.objects.bulk_create(people, batch_size=BATCH, ignore_conflicts=False)
                cases = [
                    AidCase(
                        person=p,
                        category=c,
                        hardship_level=rng.choice(["special", "hard", "general", ""]),
                        flags=rng.sample(["dibao", "registered_poor", "disability", "orphan"], 1),
                    )
                    for p, c in zip(people, categories, strict=True)
                ]
                AidCase.objects.bulk_create(cases, batch_size=BATCH)
                students, children, tekun = [], [], []
                for case in cases:
                    school = rng.choice(schools[case.person.area.parent_id])
                    if case.category == "student":
                        students.append(StudentProfile(case=case, school=school, grade="三年级"))
                    elif case.category == "left_behind":
                        children.append(LeftBehindProfile(case=case, school=school, grade="初一"))
                    else:
                        tekun.append(TekunProfile(case=case, support_mode="dispersed"))
                StudentProfile.objects.bulk_create(students, batch_size=BATCH)
                LeftBehindProfile.objects.bulk_create(children, batch_size=BATCH)
                TekunProfile.objects.bulk_create(tekun, batch_size=BATCH)
            made += len(people)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            # VACUUM, not only ANALYZE: index-only scans (the list's COUNT) need
            # the visibility map that a bulk load leaves empty.
            cursor.execute("VACUUM ANALYZE")
    sizes = _sizes()
    sizes["load_seconds"] = round(time.perf_counter() - start, 1)
    return sizes


def _sizes() -> dict:
    return {"persons": Person.objects.count(), "cases": AidCase.objects.count()}


def walk_users() -> tuple[dict[str, User], Area]:
    """The county-level user and the township officer the URL walk uses, and
    the officer's township (where the walk's sample objects come from)."""
    from aidcases.roles import put_in_role_group

    admin = User.objects.get(username="admin")
    township = Area.objects.filter(level="township", code__startswith="1498").first()
    officer, _ = User.objects.get_or_create(
        username="bench_officer", defaults={"role": "township_officer", "area": township}
    )
    put_in_role_group(officer)  # idempotent; older bench databases made it without
    return {"county": admin, "township officer": officer}, township


def pages() -> list[tuple[str, str, object]]:
    from students.models import School

    users, township = walk_users()
    admin, officer = users["county"], users["township officer"]
    person = Person.objects.filter(area__path__startswith=township.path).first()
    sample = Person.objects.filter(area__code__startswith="1498").order_by("id")[1000]
    school = School.objects.filter(area=township).first()
    largest = _largest_school()
    # Where 下一页 leads after 1,999 pages: the last row of page 1,999.
    deep = _row_before_page(selectors.people_for(user=admin).order_by(*SORTS[DEFAULT_SORT]), 2000)
    return [
        ("people list (county staff)", "/people/", admin),
        ("people list page 2000 (下一页 link)", f"/people/?after={deep}&page=2000", admin),
        ("people list ?page=2000 (typed page number)", "/people/?page=2000", admin),
        ("people list last page", "/people/?page=last", admin),
        ("people list (township officer)", "/people/", officer),
        ("search initials", f"/people/?q={_initials(sample.name)}", admin),
        ("search name substring", f"/people/?q={sample.name[1:]}", admin),
        ("search ID tail", f"/people/?q={pii.decrypt(sample.id_number_encrypted)[-4:]}", admin),
        ("filter township + category", f"/people/?township={township.pk}&category=student", admin),
        ("filter flag", "/people/?flags=orphan", admin),
        ("sort by birth date", "/people/?sort=-birth", admin),
        ("new person form (county)", "/people/new/", admin),
        ("new person form (township officer)", "/people/new/", officer),
        ("new user form", "/users/new/", admin),
        ("一人一档 detail", f"/people/{person.pk}/", admin),
        ("school list (county)", "/schools/", admin),
        ("school list (township officer)", "/schools/", officer),
        ("school roster", f"/schools/{school.pk}/", admin),
        (f"school roster, largest school ({largest[1]} rows)", f"/schools/{largest[0]}/", admin),
        ("school roster, largest school, print", f"/schools/{largest[0]}/?print=1", admin),
        ("duplicate review (county)", "/people/review/", admin),
        ("duplicate review (township officer)", "/people/review/", officer),
    ]


def _row_before_page(queryset, number: int, per_page: int = 50) -> int:
    return queryset.values_list("pk", flat=True)[(number - 1) * per_page - 1]


def _largest_school() -> tuple[int, int]:
    """(pk, aided children) of the school with the most open student or
    left-behind cases."""
    from django.db.models import Count

    from students.models import StudentProfile

    row = (
        StudentProfile.objects.filter(case__status="open")
        .values("school")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    return row["school"], row["n"]


def _initials(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return "".join(lazy_pinyin(name, style=Style.FIRST_LETTER))
