"""Import engine throughput: rows per second for `importing.read` on a realistic roster.

A 10,000-row, 15-column .xlsx (title row, header, ID numbers as text, real date cells,
month-only dates, money, 是/否) is generated in a temporary directory and read a few times;
the best run is reported. No database is needed.

    .venv/bin/python -m benchmarks.bench_importing
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
REPEAT = 3


def _setup_django() -> None:
    # Messages are gettext strings; settings as the other benchmarks use them.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidcases.settings")
    os.environ.setdefault("AIDCASES_TESTING", "true")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def _spec():
    from django.core.exceptions import ValidationError
    from stdnum.cn import ric

    from aidcases import importing as im

    def id_number(raw: object) -> str:
        # The engine's cost, not the ID library's: check the check digit only (stdnum's full
        # validate, with its area-code table lookup, costs about as much as the whole read).
        value = im.text(raw).upper()
        if len(value) != 18 or ric.calc_check_digit(value) != value[-1]:
            raise ValidationError("身份证号码无效")
        return value

    level = im.choice({"特别困难": "special", "比较困难": "hard", "一般困难": "general"})
    return im.Spec(
        title="困难学生花名册",
        columns=(
            im.Column("name", "姓名", required=True, parse=im.name),
            im.Column("id_number", "身份证号码", ("身份证号",), required=True, parse=id_number),
            im.Column("gender", "性别", parse=im.gender),
            im.Column("birth_date", "出生日期", parse=im.full_date),
            im.Column("township", "乡镇"),
            im.Column("village", "所在村", ("村(社区)",)),
            im.Column("school", "就读学校"),
            im.Column("grade", "年级"),
            im.Column("enrolled", "入学年月", parse=im.partial_date),
            im.Column("household_size", "家庭人口", parse=im.integer),
            im.Column("income", "家庭年收入", parse=im.money),
            im.Column("low_income", "是否低保", parse=im.boolean),
            im.Column("level", "认定等级", parse=level),
            im.Column("guardian", "监护人", parse=im.name),
            im.Column("phone", "联系电话"),
        ),
    )


def _id_number(rng: random.Random, birth: date) -> str:
    from stdnum.cn import ric

    body = f"140822{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + ric.calc_check_digit(body + "0")


def write_roster(path: Path, rows: int = ROWS) -> None:
    import xlsxwriter

    rng = random.Random(2026)
    headers = ["姓名", "身份证号码", "性别", "出生日期", "乡镇", "所在村", "就读学校", "年级"]
    headers += ["入学年月", "家庭人口", "家庭年收入", "是否低保", "认定等级", "监护人", "联系电话"]
    # Shared strings, as Excel and WPS save a file (constant_memory would write inline strings,
    # which openpyxl parses several times slower than any file a person would upload).
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("花名册")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    ws.merge_range(0, 0, 0, len(headers) - 1, "青山县2026年困难学生花名册")
    for c, header in enumerate(headers):
        ws.write_string(1, c, header)
    for r in range(2, rows + 2):
        birth = date(2005, 1, 1) + timedelta(days=rng.randint(0, 4000))
        ws.write_string(
            r, 0, rng.choice("张王李赵刘陈杨") + rng.choice(["小明", "芳", "子涵", "浩"])
        )
        ws.write_string(r, 1, _id_number(rng, birth))
        ws.write_string(r, 2, rng.choice("男女"))
        ws.write_datetime(r, 3, birth, date_format)
        ws.write_string(r, 4, "城关镇")
        ws.write_string(r, 5, f"第{rng.randint(1, 30)}村")
        ws.write_string(r, 6, "青山县第一中学")
        ws.write_string(r, 7, f"{rng.randint(1, 9)}年级")
        ws.write_string(r, 8, f"{birth.year + 7}.9")
        ws.write_number(r, 9, rng.randint(2, 7))
        ws.write_number(r, 10, rng.randint(2000, 30000) + 0.5)
        ws.write_string(r, 11, rng.choice("是否"))
        ws.write_string(r, 12, rng.choice(["特别困难", "比较困难", "一般困难"]))
        ws.write_string(r, 13, "张　大山")
        ws.write_string(r, 14, f"138{rng.randint(0, 99_999_999):08d}")
    ws.write_string(rows + 2, 0, "填表人：王五")
    book.close()


def main() -> float:
    """Print and return the best rows/s of `read` (wall clock) over a few runs.

    CPU time is printed too: on a busy machine it is the steadier number.
    """
    _setup_django()
    from aidcases import importing

    spec = _spec()
    with tempfile.TemporaryDirectory(prefix="bench-importing-") as tmp:
        path = Path(tmp) / "花名册.xlsx"
        write_roster(path)
        size_kb = path.stat().st_size / 1024
        best_wall = best_cpu = float("inf")
        for _ in range(REPEAT):
            wall, cpu = time.perf_counter(), time.process_time()
            sheet = importing.read(path, path.name, spec)
            best_wall = min(best_wall, time.perf_counter() - wall)
            best_cpu = min(best_cpu, time.process_time() - cpu)
    if not sheet.report.ok or len(sheet.rows) != ROWS:
        report = importing.format_report_text(sheet.report)
        raise SystemExit("benchmark file did not read cleanly:\n" + report[:2000])
    rate = ROWS / best_wall
    print(
        f"importing.read: {ROWS:,} rows x {len(spec.columns)} columns ({size_kb:,.0f} KB .xlsx) "
        f"in {best_wall:.2f} s = {rate:,.0f} rows/s "
        f"(CPU {best_cpu:.2f} s = {ROWS / best_cpu:,.0f} rows/s; best of {REPEAT})"
    )
    return rate


if __name__ == "__main__":
    main()
    sys.exit(0)
