"""`make bench`: build a province-sized dataset in its own database, time pages.

The data lives in the database `aidcases_bench` on the embedded (or given)
server and is kept between runs, so only the first run pays for generation.

    python -m benchmarks                 # everything, written to benchmarks/results.md
    python -m benchmarks pages walk      # only some parts (printed, results.md untouched)

Parts: `pages` (the scenarios' pages), `walk` (every GET URL pattern as a county
user and a township officer), `imports` (engine, people and visit import timings),
`money` (releasing and paying a 5,000-line batch; importing the 5,000-row bank file of
another), `reminders` (the quarterly team-activity reminder job over the 3,000 teams).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aidcases.settings")
os.environ["AIDCASES_TESTING"] = "true"  # test settings: eager tasks, fast hasher
os.environ.setdefault("TEST_DATABASE_NAME", "aidcases_bench")

import django

django.setup()

from django.db import connection  # noqa: E402

from benchmarks import harness  # noqa: E402

SCENARIOS = [
    "benchmarks.scenarios_foundation",
    "benchmarks.scenarios_registry",
    "benchmarks.scenarios_volunteers",
    "benchmarks.scenarios_money",
]
PARTS = ("pages", "walk", "imports", "money", "reminders")


def main(argv: list[str]) -> int:
    parts = [p for p in argv if p in PARTS] or list(PARTS)
    # Not setup_test_environment(): its template-render instrumentation would
    # be timed too. The test client only needs its host allowed.
    from django.conf import settings

    settings.ALLOWED_HOSTS = ["testserver"]
    # serialize=False: no copy of the whole province database in memory (1 GB and minutes)
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    import gc
    import importlib

    gc.freeze()  # as aidcases/wsgi.py does in each worker once the app is loaded

    report = [f"# Benchmark results ({time.strftime('%Y-%m-%d %H:%M')})", ""]
    report.append(
        f"p50/p95: server time over 30 requests (15 in the walk); SQL ms: median time in "
        f"SQL of the same requests; KB sent: response body. Budget: p95 ≤ {harness.BUDGET_MS} ms."
    )
    report.append("")
    for name in SCENARIOS:
        module = importlib.import_module(name)
        label, seconds, sizes = harness.timed("populate", module.populate)
        if "pages" not in parts:
            continue
        report.append(f"## {name.rsplit('.', 1)[-1]}")
        report.append(f"data: {sizes} (populate {seconds:.1f} s)")
        report.append("")
        report.append(harness.table(harness.run_pages(module.pages())))
        report.append("")
        print("\n".join(report[-4:]), flush=True)
    if "walk" in parts:
        from benchmarks import scenarios_registry, walk

        users, township = scenarios_registry.walk_users()
        report.append("## every GET page (county user, township officer)")
        report.append("")
        report.append(walk.run(users, township))
        report.append("")
        print("\n".join(report[-3:]), flush=True)
    if "imports" in parts:
        from benchmarks import bench_importing, bench_people_import, bench_visit_import

        report.append("## imports")
        rate = bench_importing.main()
        report.append(f"- import engine `read`: {rate:,.0f} rows/s (10,000 rows x 15 columns)")
        for label, seconds in bench_people_import.main(setup=False):
            report.append(f"- people import, {label}: {seconds:.1f} s")
        for label, seconds in bench_visit_import.main(setup=False):
            report.append(f"- visit import, {label}: {seconds:.1f} s")
        report.append("")
    if "money" in parts:
        from benchmarks import bench_payout, bench_reconciliation

        report.append("## money")
        for label, seconds in bench_payout.main(setup=False):
            report.append(f"- {label}: {seconds:.2f} s")
        for label, seconds in bench_reconciliation.main(setup=False):
            report.append(f"- 回盘 {label}: {seconds:.2f} s")
        report.append("")
    if "reminders" in parts:
        from benchmarks import bench_reminders

        report.append("## reminders")
        report += [f"- {line}" for line in bench_reminders.main(setup=False)]
        report.append("")
    text = "\n".join(report)
    print(text)
    if parts == list(PARTS):
        Path(__file__).with_name("results.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
