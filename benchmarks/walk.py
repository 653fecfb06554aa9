"""Every GET page, timed: `make bench` walks each URL pattern (Django admin
included) as a county-level user and as a township officer, so that no page goes
untimed. Patterns with arguments get a real object of the officer's township
(visible to both users); a pattern with no sample object, or one that only takes
POST, is listed as such instead of being left out silently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from benchmarks import harness


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    args: tuple[str, ...]


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
                args = tuple(p.pattern.regex.groupindex)
                found.append(Route(name=name, route=prefix + str(p.pattern), args=args))

    walk(get_resolver().url_patterns, "", None)
    return found


def samples(township) -> dict[str, Callable[[], dict | None]]:
    """url name → kwargs naming a real object in `township` (None: no such object)."""
    from aidcases.models import AidCase, Attachment, Job, Person, User
    from students.models import School

    def first(qs, **values):
        obj = qs.first()
        return None if obj is None else {k: v(obj) for k, v in values.items()}

    people = Person.objects.filter(area__path__startswith=township.path).order_by("pk")
    cases = AidCase.objects.filter(person__area__path__startswith=township.path).order_by("pk")
    officer = User.objects.filter(username="bench_officer")
    jobs = Job.objects.filter(requested_by__username="bench_officer").order_by("-pk")
    pk = lambda o: o.pk  # noqa: E731
    return {
        "area_detail": lambda: {"code": township.code},
        "user_edit": lambda: first(officer, pk=pk),
        "user_password": lambda: first(officer, pk=pk),
        "job_detail": lambda: first(jobs, pk=pk),
        "job_download": lambda: first(jobs.exclude(result_file=""), pk=pk),
        "person_detail": lambda: first(people, pk=pk),
        "person_edit": lambda: first(people, pk=pk),
        "case_create": lambda: first(people, pk=pk),
        "case_edit": lambda: first(cases, pk=pk),
        "case_close": lambda: first(cases, pk=pk),
        "attachment_download": lambda: first(
            Attachment.objects.filter(person__area__path__startswith=township.path), pk=pk
        ),
        "school_roster": lambda: first(School.objects.filter(area=township), pk=pk),
        "school_edit": lambda: first(School.objects.filter(area=township), pk=pk),
        "student_profile_edit": lambda: first(cases.filter(category="student"), case_pk=pk),
        "left_behind_profile_edit": lambda: first(cases.filter(category="left_behind"), case_pk=pk),
        "import_start": lambda: {"kind": "people"},
        "import_template": lambda: {"kind": "people"},
        **_volunteer_samples(township, first, pk),
        **_money_samples(township, first, pk),
    }


def _volunteer_samples(township, first, pk) -> dict[str, Callable[[], dict | None]]:
    from volunteers.models import Activity, FollowUp, Pairing, Team, Visit, Volunteer

    inside = township.path
    teams = Team.objects.filter(area__path__startswith=inside).order_by("pk")
    volunteers = Volunteer.objects.filter(area__path__startswith=inside).order_by("pk")
    pairings = Pairing.objects.filter(team__area__path__startswith=inside).order_by("pk")
    visits = Visit.objects.filter(team__area__path__startswith=inside).order_by("-pk")
    follow_ups = FollowUp.objects.filter(case__person__area__path__startswith=inside)
    activities = Activity.objects.filter(team__area__path__startswith=inside).order_by("-pk")
    return {
        "team_detail": lambda: first(teams, pk=pk),
        "team_edit": lambda: first(teams, pk=pk),
        "team_member_add": lambda: first(teams, pk=pk),
        "activity_create": lambda: first(teams, pk=pk),
        "activity_detail": lambda: first(activities, pk=pk),
        "volunteer_detail": lambda: first(volunteers, pk=pk),
        "volunteer_edit": lambda: first(volunteers, pk=pk),
        "pairing_detail": lambda: first(pairings, pk=pk),
        "visit_detail": lambda: first(visits, pk=pk),
        "follow_up_detail": lambda: first(follow_ups.order_by("pk"), pk=pk),
    }


def _money_samples(township, first, pk) -> dict[str, Callable[[], dict | None]]:
    """Batches are county-level (seen by both users): the samples are the newest paid
    batch with lines in the officer's township (the bench's 5,000-line batch is timed by
    `pages`), a draft batch to nominate into, lines of the township, and the money-in
    objects (county readers only: the officer's 403 is timed too)."""
    from disbursements.models import (
        AidBatch,
        AidLine,
        AidProgramme,
        Fund,
        FundEntry,
        FundingSource,
        GoodsDonation,
    )

    lines = AidLine.objects.filter(person__area__path__startswith=township.path)
    paid = AidBatch.objects.filter(state="paid", pk__in=lines.values("batch_id")).order_by("-pk")
    released = AidBatch.objects.filter(state="released", pk__in=lines.values("batch_id"))
    draft = AidBatch.objects.filter(state="draft").order_by("-pk")
    return {
        "batch_detail": lambda: first(paid, pk=pk),
        "batch_nominate": lambda: first(draft, pk=pk),
        "batch_suggest": lambda: first(draft, pk=pk),
        "batch_publicity": lambda: first(paid, pk=pk),
        "batch_publicity_xlsx": lambda: first(paid, pk=pk),
        "batch_payout_xlsx": lambda: first(paid, pk=pk),
        "line_pay": lambda: first(
            lines.filter(state="pending", batch__in=released).order_by("pk"), pk=pk
        ),
        "line_reverse": lambda: first(
            lines.filter(state="paid", batch__in=paid.values("pk")[:1]).order_by("pk"), pk=pk
        ),
        "fund_detail": lambda: first(Fund.objects.order_by("pk"), pk=pk),
        "entry_detail": lambda: first(FundEntry.objects.order_by("-pk"), pk=pk),
        "entry_edit": lambda: first(FundEntry.objects.filter(state="draft").order_by("pk"), pk=pk),
        "entry_cancel": lambda: first(
            FundEntry.objects.filter(state="posted").order_by("pk"), pk=pk
        ),
        "source_edit": lambda: first(FundingSource.objects.order_by("pk"), pk=pk),
        "goods_detail": lambda: first(GoodsDonation.objects.order_by("pk"), pk=pk),
        "programme_edit": lambda: first(AidProgramme.objects.order_by("pk"), pk=pk),
    }


def _admin_kwargs(name: str, args: tuple[str, ...]) -> dict | None:
    """admin:<app>_<model>_<view> with object_id → the model's first row."""
    kwargs: dict = {}
    if "app_label" in args:
        return None  # the app index: reached through the index page
    if "object_id" in args:
        app_model = name.split(":", 1)[1].rsplit("_", 1)[0]
        for model in admin.site._registry:
            if f"{model._meta.app_label}_{model._meta.model_name}" == app_model:
                obj = model._default_manager.order_by("pk").first()
                if obj is None:
                    return None
                kwargs["object_id"] = obj.pk
                break
        else:
            return None
    return kwargs if set(kwargs) == set(args) else None


def _ensure_job(user) -> None:
    """A finished export of the officer's, so that the job pages have a real id."""
    from django.core.files.base import ContentFile

    from aidcases.models import Job

    job = Job.objects.filter(requested_by=user).exclude(result_file="").order_by("-pk").first()
    if job is None:
        job = Job(kind="people_export", requested_by=user, state=Job.State.SUCCEEDED, progress=100)
    if not (job.result_file and job.result_file.storage.exists(job.result_file.name)):
        # (again when the database outlived the media directory)
        job.result_file.save("bench.xlsx", ContentFile(b"PK bench"), save=False)
        job.result_name = "bench.xlsx"
        job.save()


def pages(township) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(name, url)] to time, [(name, why not)] skipped)."""
    made = samples(township)
    timed, skipped = [], []
    for route in routes():
        if route.name.startswith("admin:"):
            kwargs = _admin_kwargs(route.name, route.args) if route.args else {}
        elif route.args:
            build = made.get(route.name)
            kwargs = build() if build else None
        else:
            kwargs = {}
        if kwargs is None:
            skipped.append((route.name, "no sample object in the bench data"))
            continue
        try:
            timed.append((route.name, reverse(route.name, kwargs=kwargs)))
        except NoReverseMatch:
            skipped.append((route.name, "cannot build its URL"))
    return timed, skipped


class _QuietClient(Client):
    """A page that fails shows as its 500 in the table instead of ending the walk."""

    def __init__(self, **kwargs):
        super().__init__(raise_request_exception=False, **kwargs)


def run(users: dict[str, object], township, *, repeat: int = 15) -> str:
    """The walk's table: one row per (page, user); POST-only pages listed apart."""
    _ensure_job(users["township officer"])
    urls, skipped = pages(township)
    results, post_only = [], []
    for name, url in urls:
        for who, user in users.items():
            client = Client(raise_request_exception=False)
            client.force_login(user)
            if client.get(url).status_code == 405:
                post_only.append(name)
                break
            results += harness.run_pages(
                [(f"{name} `{url}` ({who})", url, user)], repeat=repeat, client_class=_QuietClient
            )
    lines = [harness.table(results), ""]
    if post_only:
        lines.append("POST only (not timed here): " + ", ".join(sorted(set(post_only))))
    if skipped:
        lines.append(
            "Not timed: " + "; ".join(f"{name} ({why})" for name, why in sorted(set(skipped)))
        )
    over = [r for r in results if r.over_budget and r.status == 200]
    failed = [r.label for r in results if r.status >= 500]
    if failed:
        lines.append("Failed (5xx): " + ", ".join(failed))
    lines.append("")
    lines.append(
        f"{len(results)} timings, {len(over)} over the {harness.BUDGET_MS} ms p95 budget"
        + (": " + ", ".join(r.label for r in over) if over else ".")
    )
    return "\n".join(lines)
