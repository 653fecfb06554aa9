"""Benchmark harness: page timings (p50/p95 server time, query count) and jobs.

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
from django.test.utils import CaptureQueriesContext


@dataclass
class PageResult:
    label: str
    p50_ms: float
    p95_ms: float
    queries: int
    status: int


def time_page(client: Client, url: str, *, repeat: int = 30) -> tuple[list[float], int, int]:
    client.get(url)  # warm caches, templates, connections
    times, queries, status = [], 0, 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        queries, status = len(ctx.captured_queries), response.status_code
    return times, queries, status


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_pages(pages: Iterable[tuple[str, str, object]], *, repeat: int = 30) -> list[PageResult]:
    results = []
    for label, url, user in pages:
        client = Client()
        client.force_login(user)
        times, queries, status = time_page(client, url, repeat=repeat)
        results.append(
            PageResult(
                label=label,
                p50_ms=statistics.median(times),
                p95_ms=percentile(times, 95),
                queries=queries,
                status=status,
            )
        )
    return results


def timed(label: str, func: Callable[[], object]) -> tuple[str, float, object]:
    start = time.perf_counter()
    value = func()
    return label, time.perf_counter() - start, value


def table(results: list[PageResult]) -> str:
    lines = [
        "| page | p50 ms | p95 ms | queries | status |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(f"| {r.label} | {r.p50_ms:.1f} | {r.p95_ms:.1f} | {r.queries} | {r.status} |")
    return "\n".join(lines)
