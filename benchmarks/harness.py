"""Benchmark harness: page timings (p50/p95 server time, query count, time spent
in SQL, bytes sent) and jobs.

Scenarios are registered by module (benchmarks/scenarios_*.py); each provides
`populate(scale)` (idempotent, bulk SQL) and `pages(ctx)` yielding
(label, url, user). Results go to stdout and benchmarks/results.md.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection
from django.test import Client

BUDGET_MS = 150  # DESIGN.md: list/search/detail pages, p95


@dataclass
class PageResult:
    label: str
    p50_ms: float
    p95_ms: float
    queries: int
    status: int
    sql_ms: float = 0.0  # median time spent in SQL (client side, round trips included)
    bytes: int = 0

    @property
    def over_budget(self) -> bool:
        return self.p95_ms > BUDGET_MS


class _SqlTimer:
    """Counts queries and sums their wall time (an execute wrapper: the same
    hooks Django's debug cursor uses, without its string formatting)."""

    def __init__(self):
        self.queries = 0
        self.seconds = 0.0

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - start
            self.queries += 1


def _body_size(response) -> int:
    if getattr(response, "streaming", False):
        return sum(len(chunk) for chunk in response.streaming_content)
    return len(response.content)


@dataclass
class Sample:
    times: list[float]
    sql_times: list[float]
    queries: int
    status: int
    bytes: int


def time_page(client: Client, url: str, *, repeat: int = 30) -> Sample:
    client.get(url)  # warm caches, templates, connections
    times, sql_times, queries, status, size = [], [], 0, 0, 0
    for _ in range(repeat):
        timer = _SqlTimer()
        with connection.execute_wrapper(timer):
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        sql_times.append(timer.seconds * 1000)
        queries, status, size = timer.queries, response.status_code, _body_size(response)
    return Sample(times, sql_times, queries, status, size)


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_pages(
    pages: Iterable[tuple[str, str, object]], *, repeat: int = 30, client_class=Client
) -> list[PageResult]:
    results = []
    for label, url, user in pages:
        client = client_class()
        client.force_login(user)
        sample = time_page(client, url, repeat=repeat)
        results.append(
            PageResult(
                label=label,
                p50_ms=statistics.median(sample.times),
                p95_ms=percentile(sample.times, 95),
                queries=sample.queries,
                status=sample.status,
                sql_ms=statistics.median(sample.sql_times),
                bytes=sample.bytes,
            )
        )
    return results


def timed(label: str, func: Callable[[], object]) -> tuple[str, float, object]:
    start = time.perf_counter()
    value = func()
    return label, time.perf_counter() - start, value


def table(results: list[PageResult]) -> str:
    lines = [
        "| page | p50 ms | p95 ms | SQL ms (p50) | queries | KB sent | status |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        flag = " **over budget**" if r.over_budget else ""
        lines.append(
            f"| {r.label}{flag} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.sql_ms:.1f} "
            f"| {r.queries} | {r.bytes / 1024:.1f} | {r.status} |"
        )
    return "\n".join(lines)
