"""Visit import throughput: a 10,000-row visit workbook for a township of 2,000 persons,
checked and committed.

DESIGN budget: importing 10,000 visit rows ≤ 20 s (validate + commit). Runs in the benchmark
database (``aidcases_bench``, kept between runs, as ``make bench`` does) inside a township of
its own (走访镇: 20 villages, 2,000 特困 persons with cases, 10 teams of 15 members), all in one
transaction rolled back at the end, so every run starts from the same state.

    .venv/bin/python -m benchmarks.bench_visit_import

The file: five visits per person on different dates, by the person's team, two or three
visitors each (one in ten a name the team does not have yet: created as a volunteer), one row
in eight with a flagged care or an 急难愁盼 (a follow-up), a title row and a sign-off line.
Reported: reading the file, read + validate, commit of 10,000 new visits, and the same file
again (all unchanged: validate only, the commit writes nothing).
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROWS = 10_000
PERSONS = 2_000
VILLAGES = 20
TEAMS = 10
MEMBERS = 15


def _township():
    from aidcases.models import Area, User
    from aidcases.roles import put_in_role_group

    def area(code, name, level, parent):
        path = f"{parent.path}{code}/" if parent else f"/{code}/"
        found, _created = Area.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent": parent, "path": path}
        )
        return found

    county = area("149600", "走访县", "county", None)
    township = area("149600100", "走访镇", "township", county)
    villages = [
        area(f"149600100{n:03d}", f"走访{n}村", "village", township) for n in range(1, VILLAGES + 1)
    ]
    user, created = User.objects.get_or_create(
        username="bench_visit_importer", defaults={"role": User.Role.ADMIN, "is_superuser": True}
    )
    if created:
        put_in_role_group(user)
    return township, villages, user


def _people(rng: random.Random, villages, user) -> list[tuple[str, str]]:
    """2,000 特困 persons with an open case, written in bulk; (name, ID number) each."""
    from stdnum.cn import ric

    from aidcases import pii
    from aidcases.models import AidCase, Person
    from aidcases.search import sort_key
    from aidcases.seeding import GIVEN, SURNAMES

    people, seen = [], set()
    while len(people) < PERSONS:
        birth = date(1940, 1, 1) + timedelta(days=rng.randrange(365 * 25))
        body = f"149600{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + ric.calc_check_digit(body + "0")
        if number in seen:
            continue
        seen.add(number)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(2))
        people.append((name, number))
    persons = [
        Person(
            name=name,
            name_sort=sort_key(name),
            area=rng.choice(villages),
            id_number_hash=pii.id_hash(number),
            id_number_encrypted=pii.encrypt(number),
            birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
            gender="male" if int(number[16]) % 2 else "female",
            created_by=user,
        )
        for name, number in people
    ]
    Person.objects.bulk_create(persons, batch_size=1000)
    AidCase.objects.bulk_create(
        [
            AidCase(
                person=p,
                category=AidCase.Category.TEKUN,
                opened_on=date.today(),
                created_by=user,
            )
            for p in persons
        ],
        batch_size=1000,
    )
    return people


def _teams(rng: random.Random, township) -> list[tuple[str, list[str]]]:
    from aidcases.search import sort_key
    from aidcases.seeding import GIVEN, SURNAMES
    from volunteers.models import Membership, Team, Volunteer

    found = []
    for n in range(1, TEAMS + 1):
        team = Team.objects.create(
            name=f"走访镇第{n}服务队", kind=Team.Kind.TEKUN_CARE, area=township
        )
        names = list(
            dict.fromkeys(
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN) for _ in range(MEMBERS)
            )
        )
        volunteers = Volunteer.objects.bulk_create(
            [
                Volunteer(name=name, name_sort=sort_key(name), kind="cadre", area=township)
                for name in names
            ]
        )
        Membership.objects.bulk_create([Membership(team=team, volunteer=v) for v in volunteers])
        found.append((team.name, names))
    return found


def write_visits(path: Path, people, teams, rng: random.Random) -> None:
    import xlsxwriter

    from aidcases.seeding import GIVEN, SURNAMES

    header = ["序号", "走访日期", "被帮扶人", "身份证号码", "服务队", "走访人员"]
    header += ["居家安全", "心理状态", "生活环境", "身体健康", "急难愁盼", "自选行动", "备注"]
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = book.add_worksheet("走访记录")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_string(0, 0, "走访镇关爱特困人员青年志愿服务队走访记录")
    for c, text in enumerate(header):
        ws.write_string(1, c, text)
    today = date.today()
    r = 2
    per_person = ROWS // len(people)
    for i, (name, number) in enumerate(people):
        team_name, members = teams[i % len(teams)]
        days = rng.sample(range(1, 360), per_person)
        for d in days:
            visitors = rng.sample(members, rng.randint(2, 3))
            if rng.random() < 0.1:
                visitors.append(rng.choice(SURNAMES) + rng.choice(GIVEN) + "新")
            flagged = rng.random() < 0.125
            ws.write_number(r, 0, r - 1)
            ws.write_datetime(r, 1, today - timedelta(days=d), date_format)
            ws.write_string(r, 2, name)
            ws.write_string(r, 3, number)
            ws.write_string(r, 4, team_name)
            ws.write_string(r, 5, "、".join(visitors))
            ws.write_string(r, 6, "★电线老化" if flagged else "门窗完好")
            ws.write_string(r, 7, "情绪稳定")
            ws.write_string(r, 8, "室内整洁")
            ws.write_string(r, 9, "血压平稳")
            ws.write_string(r, 10, "冬季取暖煤不够" if flagged and rng.random() < 0.5 else "")
            ws.write_string(r, 11, rng.choice(["打扫卫生", "理发", ""]))
            ws.write_string(r, 12, "")
            r += 1
    ws.write_string(r + 1, 0, "填表人：王五　审核人：李四")
    book.close()


def _timed(label: str, func, results: list):
    start = time.perf_counter()
    value = func()
    seconds = time.perf_counter() - start
    results.append((label, seconds))
    print(f"{label:<44} {seconds:7.2f} s", flush=True)
    return value


def main(*, setup: bool = True) -> list[tuple[str, float]]:
    if setup:  # `make bench` has set up the benchmark database already
        from benchmarks.bench_people_import import _setup

        _setup()
    from django.db import transaction

    with transaction.atomic():
        results = _run()
        transaction.set_rollback(True)
    return results


def _run() -> list[tuple[str, float]]:
    from aidcases import importing
    from volunteers import visit_import

    rng = random.Random(8)
    township, villages, user = _township()
    results: list[tuple[str, float]] = []
    people = _timed(
        f"set up {PERSONS} persons with cases", lambda: _people(rng, villages, user), []
    )
    teams = _teams(rng, township)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "走访记录.xlsx"
        write_visits(path, people, teams, rng)

        def check():
            with path.open("rb") as handle:
                sheet = importing.read(handle, path.name, visit_import.SPEC)
            return visit_import.validate(sheet, township, user, file_name=path.name)

        _timed(
            f"read {ROWS} rows (engine only)",
            lambda: importing.read(path.read_bytes(), path.name, visit_import.SPEC),
            results,
        )
        plan = _timed(f"read + validate {ROWS} new visits", check, results)
        assert plan.ok, [str(i) for i in plan.errors[:5]]
        result = _timed(
            f"commit {ROWS} new visits", lambda: visit_import.commit(plan, user), results
        )
        print("   ", result.summary_line()[:200])
        validate, commit = results[-2][1], results[-1][1]
        results.append((f"validate + commit {ROWS} visits (budget 20 s)", validate + commit))
        print(f"{results[-1][0]:<44} {results[-1][1]:7.2f} s", flush=True)
        plan = _timed("read + validate the same file again", check, results)
        result = _timed(
            "commit it (all unchanged)", lambda: visit_import.commit(plan, user), results
        )
        print("   ", result.summary_line())
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
