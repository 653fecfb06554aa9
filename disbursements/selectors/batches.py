"""Reads for the batch screens, always scoped through aidcases.access.

A batch is a county-level object (everyone who may nominate or read money sees it);
its lines are seen only in the reader's area scope (person → area), so a township
officer sees the batch and their own township's lines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from aidcases import access
from aidcases.models import HARDSHIP_FLAGS, AidCase, Person, User
from aidcases.selectors import people_search
from disbursements.models import AidBatch, AidLine, AidProgramme, BatchApproval

S = AidBatch.State
L = AidLine.State
COUNTING = (L.PENDING, L.PAID)  # what line_warnings counts as "aided"


def batches_for(*, user: User) -> QuerySet[AidBatch]:
    """Batches the user may see (a county-level object), with what the list shows of
    each. Their lines' count and total come from `with_line_totals`, for one page."""
    return AidBatch.objects.filter(access.scope_q(AidBatch, user)).select_related(
        "programme", "fund"
    )


def batch_list(
    *,
    user: User,
    programme: AidProgramme | None = None,
    state: str = "",
    school_year: int | None = None,
) -> QuerySet[AidBatch]:
    qs = batches_for(user=user)
    if programme is not None:
        qs = qs.filter(programme=programme)
    if state:
        qs = qs.filter(state=state)
    if school_year:
        qs = qs.filter(school_year=school_year)
    return qs.order_by("-created_at", "-id")


def with_line_totals(batches: list[AidBatch], *, user: User) -> list[AidBatch]:
    """Set `line_count` and `line_total` on each batch: its lines that are not excluded,
    in the user's scope (a township officer's list shows their township's share). One
    query for the page, whatever its size: counting the lines of every batch (600,000
    lines at province scale) for each page took a second."""
    totals = (
        {
            row["batch_id"]: (row["n"], row["total"])
            for row in AidLine.objects.filter(
                access.scope_q(AidLine, user), batch_id__in=[b.pk for b in batches]
            )
            .exclude(state=L.EXCLUDED)
            .values("batch_id")
            # count(*), not count(id): the (batch, state) index includes the amount, so
            # PostgreSQL reads the lines from it alone (15 ms, not 110 ms from the heap)
            .annotate(n=Count("*"), total=Sum("amount"))
            .order_by()
        }
        if batches
        else {}
    )
    for batch in batches:
        batch.line_count, batch.line_total = totals.get(batch.pk, (0, None))
    return batches


def batch_for_user_or_404(*, user: User, pk: int) -> AidBatch:
    qs = AidBatch.objects.select_related("programme", "fund", "created_by", "follow_up_of")
    return access.get_for_user_or_404(qs, user, pk=pk)


def programmes_for(*, user: User) -> QuerySet[AidProgramme]:
    return AidProgramme.objects.filter(access.scope_q(AidProgramme, user)).order_by("name")


def lines_for(*, user: User, batch: AidBatch) -> QuerySet[AidLine]:
    """The batch's lines in the user's scope, with what the batch page shows."""
    return (
        AidLine.objects.filter(access.scope_q(AidLine, user), batch=batch)
        .select_related("person__area", "case", "verified_by", "receipt")
        .order_by("id")
    )


def line_for_user_or_404(*, user: User, pk: int) -> AidLine:
    qs = AidLine.objects.select_related(
        "batch__programme", "batch__fund", "person__area", "case", "fund"
    )
    return access.get_for_user_or_404(qs, user, pk=pk)


def line_summary(*, user: User, batch: AidBatch) -> dict:
    """Counts and totals per line state, and the lines not verified yet, in the user's
    scope (one query)."""
    rows = (
        AidLine.objects.filter(access.scope_q(AidLine, user), batch=batch)
        .values("state")
        .annotate(
            n=Count("id"),
            total=Sum("amount"),
            unverified=Count("id", filter=Q(verified_at__isnull=True)),
        )
        .order_by()
    )
    by_state = {r["state"]: (r["n"], r["total"] or Decimal(0), r["unverified"]) for r in rows}
    live = [v for k, v in by_state.items() if k != L.EXCLUDED]
    return {
        "count": sum(n for n, _t, _u in live),
        "total": sum((t for _n, t, _u in live), Decimal(0)),
        "by_state": [
            (label, *by_state[value][:2]) for value, label in L.choices if value in by_state
        ],
        "unverified": sum(u for _n, _t, u in live),
    }


def warnings_for(lines: list[AidLine], batch: AidBatch) -> dict[int, list[str]]:
    """services.line_warnings for a page of lines, in two queries whatever the page's
    size: aided this school year by another programme; over the yearly cap."""
    if not lines:
        return {}
    person_ids = {line.person_id for line in lines}
    year = AidLine.objects.filter(
        person_id__in=person_ids, batch__school_year=batch.school_year
    ).exclude(batch__state=S.ABORTED)
    others = set(
        year.filter(state__in=COUNTING)
        .exclude(batch__programme_id=batch.programme_id)
        .values_list("person_id", flat=True)
    )
    taken: dict[int, list[tuple[int, Decimal]]] = defaultdict(list)
    cap = batch.programme.yearly_cap
    if cap is not None:
        for pk, person_id, amount in (
            year.filter(batch__programme_id=batch.programme_id)
            .exclude(state__in=[L.EXCLUDED, L.FAILED, L.REVERSED])
            .values_list("pk", "person_id", "amount")
        ):
            taken[person_id].append((pk, amount))
    out: dict[int, list[str]] = {}
    for line in lines:
        warnings = []
        if line.person_id in others:
            warnings.append(_("本学年已获其他项目资助"))
        if cap is not None:
            used = sum((a for pk, a in taken[line.person_id] if pk != line.pk), Decimal(0))
            if used + line.amount > cap:
                warnings.append(_("超过本项目每人每年上限"))
        out[line.pk] = warnings
    return out


def approvals_this_round(batch: AidBatch) -> list[BatchApproval]:
    return list(
        batch.approvals.filter(round=batch.approval_round).select_related("approver").order_by("at")
    )


# --- nominating ---------------------------------------------------------------------


def _fitting_cases(*, user: User, batch: AidBatch) -> QuerySet[AidCase]:
    """Open cases in the user's scope of active people who fit the programme's
    categories and are not in the batch yet."""
    programme = batch.programme
    qs = AidCase.objects.filter(
        access.area_q(user, "person__area"),
        status=AidCase.Status.OPEN,
        person__is_active=True,
        person__merged_into__isnull=True,
    ).exclude(person__aid_lines__batch=batch)
    if programme.categories:
        qs = qs.filter(category__in=programme.categories)
    return qs.select_related("person__area").order_by("person__name_sort", "pk")


def nomination_candidates(*, user: User, batch: AidBatch, query: str) -> QuerySet[AidCase]:
    """People-list search (name, pinyin, initials) among the cases that fit."""
    people = people_search(
        Person.objects.all(), query, id_tails=user.has_perm("aidcases.reveal_id_number")
    )
    return _fitting_cases(user=user, batch=batch).filter(person__in=people.values("pk"))


def filtered_candidates(*, user: User, batch: AidBatch, filterset) -> QuerySet[AidCase]:
    """The people list's own filters (the hub's PersonFilter over `people_for`, the
    registered ones such as 学校 included) among the cases that fit the batch. The
    list's case filters (category, level, flags) also choose which of a person's cases
    is nominated; one case per person, the first by category."""
    if not filterset.is_valid():
        return AidCase.objects.none()
    data = filterset.form.cleaned_data
    qs = _fitting_cases(user=user, batch=batch).filter(person__in=filterset.qs.values("pk"))
    if data.get("category"):
        qs = qs.filter(category=data["category"])
    if data.get("level"):
        qs = qs.filter(hardship_level=data["level"])
    if data.get("flags"):
        qs = qs.filter(flags__overlap=list(data["flags"]))
    return qs.order_by("person__name_sort", "person_id", "category", "pk").distinct(
        "person__name_sort", "person_id"
    )


@dataclass
class Suggestion:
    case: AidCase
    amount: Decimal | None
    why: list[str]


def suggestions(*, user: User, batch: AidBatch, limit: int = 200) -> list[Suggestion]:
    """Cases fitting the programme's rules (categories, levels, flags) that are not in
    the batch yet, each with why it qualifies."""
    programme = batch.programme
    qs = _fitting_cases(user=user, batch=batch)
    if programme.levels:
        qs = qs.filter(hardship_level__in=programme.levels)
    if programme.flags:
        qs = qs.filter(flags__overlap=programme.flags)
    flag_labels = dict(HARDSHIP_FLAGS)
    out = []
    for case in qs[:limit]:
        why = [_("类别：%(c)s") % {"c": case.get_category_display()}]
        if case.hardship_level:
            why.append(_("认定等级：%(l)s") % {"l": case.get_hardship_level_display()})
        matched = [str(flag_labels.get(f, f)) for f in case.flags if f in programme.flags]
        if matched:
            why.append(_("困难类型：%(f)s") % {"f": "、".join(matched)})
        out.append(Suggestion(case, programme.standard_for(case.hardship_level), why))
    return out


def programme_rules(programme: AidProgramme) -> list[str]:
    """The programme's eligibility in words, for the suggestion page."""
    categories = dict(AidCase.Category.choices)
    levels = dict(AidCase.Level.choices)
    flags = dict(HARDSHIP_FLAGS)
    out = []
    if programme.categories:
        out.append(_("类别：") + "、".join(str(categories.get(c, c)) for c in programme.categories))
    if programme.levels:
        out.append(_("认定等级：") + "、".join(str(levels.get(v, v)) for v in programme.levels))
    if programme.flags:
        out.append(
            _("困难类型（任一）：") + "、".join(str(flags.get(f, f)) for f in programme.flags)
        )
    return out


def person_aid_lines(*, person: Person) -> list[AidLine]:
    """Every line of one person (the 一人一档 section); the caller checked the person."""
    return list(
        AidLine.objects.filter(person=person)
        .select_related("batch__programme", "fund")
        .order_by("-batch__school_year", "-nominated_at", "-id")
    )
