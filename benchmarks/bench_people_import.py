"""People import throughput: a 10,000-row 困难学生 roster, checked and committed.

DESIGN budget: a 10,000-row import commits in ≤ 20 s. Runs in the benchmark database
(``aidcases_bench``, kept between runs, as ``make bench`` does) inside a township of its own
(基准镇, 30 villages; 5 schools named in the file, created by the first commit), all inside
one transaction that is rolled back at the end, so every run starts from the same state.

    .venv/bin/python -m benchmarks.bench_people_import

Reported: reading the file (the engine), validate (row checks, one query per row in
person_clean), commit of 10,000 new persons (cases, profiles, audit and history rows),
the same file again (all unchanged: validate only, commit writes nothing) and a re-import
where every row changed (the changed persons through services.people_update_batch).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROWS = 10_000
VILLAGES = 30
SCHOOLS = ("基准镇中心小学", "基准镇第二小学", "基准镇中学", "基准镇第二中学", "青山县第一中学")


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidcases.settings")
    os.environ["AIDCASES_TESTING"] = "true"
    os.environ.setdefault("TEST_DATABASE_NAME", "aidcases_bench")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)


def _township():
    from aidcases.models import Area, User
    from aidcases.roles import put_in_role_group

    def area(code, name, level, parent):
        path = f"{parent.path}{code}/" if parent else f"/{code}/"
        found, _created = Area.objects.get_or_create(
            code=code, defaults={"name": name, "level": level, "parent": parent, "path": path}
        )
        return found

    county = area("149700", "基准县", "county", None)
    township = area("149700100", "基准镇", "township", county)
    for n in range(1, VILLAGES + 1):
        area(f"149700100{n:03d}", f"第{n}村", "village", township)
    user, created = User.objects.get_or_create(
        username="bench_importer", defaults={"role": User.Role.ADMIN, "is_superuser": True}
    )
    if created:
        put_in_role_group(user)
    return township, user


def _id_number(rng: random.Random, area: str, birth: date, female: bool) -> str:
    from stdnum.cn import ric

    serial = rng.randrange(0, 500) * 2 + (0 if female else 1)
    body = f"{area}{birth:%Y%m%d}{serial:03d}"
    return body + ric.calc_check_digit(body + "0")


def write_roster(path: Path, rows: int = ROWS, *, seed: int, phone_base: int = 0) -> None:
    """A roster as township staff keep it: title, header, text IDs, date cells, sign-off."""
    import xlsxwriter

    from aidcases.seeding import GIVEN, SURNAMES

    rng = random.Random(seed)
    area = f"14{seed % 10_000:04d}"
    header = ["序号", "姓名", "性别", "身份证号码", "出生日期", "所在村", "联系电话", "监护人"]
    header += ["监护人电话", "认定等级", "困难类型", "就读学校", "年级", "班级", "备注"]
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("花名册")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 0, 0, len(header) - 1, "基准镇2026年困难学生花名册")
    for c, text in enumerate(header):
        ws.write_string(1, c, text)
    seen: set[str] = set()
    r = 2
    while r < rows + 2:
        birth = date(2008, 1, 1) + timedelta(days=rng.randrange(365 * 10))
        female = rng.random() < 0.5
        number = _id_number(rng, area, birth, female)
        if number in seen:
            continue
        seen.add(number)
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        ws.write_number(r, 0, r - 1)
        ws.write_string(r, 1, name)
        ws.write_string(r, 2, "女" if female else "男")
        ws.write_string(r, 3, number)
        ws.write_datetime(r, 4, birth, date_format)
        ws.write_string(r, 5, f"第{rng.randint(1, VILLAGES)}村")
        ws.write_string(r, 6, f"13{(rng.randrange(10**9) + phone_base) % 10**9:09d}")
        ws.write_string(r, 7, rng.choice(SURNAMES) + rng.choice(GIVEN))
        ws.write_string(r, 8, f"139{rng.randrange(10**8):08d}")
        ws.write_string(r, 9, rng.choice(["特别困难", "比较困难", "一般困难"]))
        ws.write_string(r, 10, rng.choice(["低保", "建档立卡/脱贫户", "残疾、低保", ""]))
        ws.write_string(r, 11, rng.choice(SCHOOLS))
        ws.write_string(r, 12, f"{rng.randint(1, 6)}年级")
        ws.write_string(r, 13, f"{rng.randint(1, 4)}班")
        ws.write_string(r, 14, "")
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
        _setup()
    from django.db import transaction

    # Everything is rolled back at the end: the shared benchmark database keeps its size
    # (the page timings of the other scenarios count persons), and each run starts equal.
    with transaction.atomic():
        results = _run()
        transaction.set_rollback(True)
    return results


def _run() -> list[tuple[str, float]]:
    from aidcases.people import imports as people_import

    township, user = _township()
    seed = int(time.time()) % 10_000
    results: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        first = Path(tmp) / "花名册.xlsx"
        changed = Path(tmp) / "花名册_改.xlsx"
        write_roster(first, seed=seed)
        write_roster(changed, seed=seed, phone_base=7)  # same people, every phone changed

        def check(path: Path):
            with path.open("rb") as handle:
                sheet = people_import.read(handle, path.name, "student")
            return people_import.validate(sheet, "student", township, user, file_name=path.name)

        sheet = _timed(
            f"read {ROWS} rows (engine only)",
            lambda: people_import.read(first.read_bytes(), first.name, "student"),
            results,
        )
        assert sheet.report.ok, sheet.report.errors[:5]
        plan = _timed(f"read + validate {ROWS} new rows", lambda: check(first), results)
        assert plan.ok, [str(i) for i in plan.errors[:5]]
        result = _timed(
            f"commit {ROWS} new rows", lambda: people_import.commit(plan, user), results
        )
        print("   ", result.summary_line())
        plan = _timed("read + validate the same file again", lambda: check(first), results)
        result = _timed(
            "commit it (all unchanged)", lambda: people_import.commit(plan, user), results
        )
        print("   ", result.summary_line())
        plan = _timed(f"read + validate {ROWS} changed rows", lambda: check(changed), results)
        result = _timed(
            f"commit {ROWS} updates (batch service)",
            lambda: people_import.commit(plan, user),
            results,
        )
        print("   ", result.summary_line())
    return results


if __name__ == "__main__":
    main()
    sys.exit(0)
