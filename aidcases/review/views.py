"""The duplicate review queue (疑似重复): merge two records of one person, or
record that two similar records are different people."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aidcases import review, services
from aidcases.models import AidCase
from aidcases.viewutils import require_perm

PAIRS_PER_PAGE = 20
PEOPLE_PER_PAGE = 50
PERM = "aidcases.merge_people"


def _require_merge(request: HttpRequest) -> None:
    require_perm(request, PERM)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return ""


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the queue page the action was taken on."""
    return redirect(_safe_next(request) or "duplicate_review")


@login_required
def duplicate_review(request: HttpRequest) -> HttpResponse:
    _require_merge(request)
    tab = "no_id" if request.GET.get("tab") == "no_id" else "pairs"
    kind = request.GET.get("kind", "")
    kind = kind if kind in review.KIND_LABELS else ""
    pairs = review.duplicate_pairs(user=request.user, kind=kind)
    no_id = review.people_without_id(user=request.user)
    if tab == "pairs":
        page = pairs.page(request.GET.get("page"), PAIRS_PER_PAGE)
        pair_count, no_id_count = page.paginator.count, no_id.count()
    else:
        page = Paginator(no_id, PEOPLE_PER_PAGE).get_page(request.GET.get("page"))
        pair_count, no_id_count = pairs.count(), page.paginator.count
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "aidcases/review/queue.html",
        {
            "tab": tab,
            "kind": kind,
            "kinds": list(review.KIND_LABELS.items()),
            "page": page,
            "qs": params.urlencode(),
            "pair_count": pair_count,
            "no_id_count": no_id_count,
            "here": request.get_full_path(),
        },
    )


@login_required
def person_merge(request: HttpRequest) -> HttpResponse:
    """GET ?a=&b=: the confirmation page (choose the record to keep).
    POST keep=&drop=: merge."""
    _require_merge(request)
    if request.method == "POST":
        return _merge(request)
    a_id, b_id = _int(request.GET.get("a")), _int(request.GET.get("b"))
    if a_id is None or b_id is None or a_id == b_id:
        return redirect("duplicate_review")
    a, b = review.review_people_for_merge(user=request.user, a_id=a_id, b_id=b_id)
    pair = review.DuplicatePair(a=review.review_person(a), b=review.review_person(b), kinds=[])
    problem = _merge_problem(pair)
    # Suggest keeping the record that has the ID number, else the older one.
    if a.has_id_number != b.has_id_number:
        suggested = a if a.has_id_number else b
    else:
        suggested = a if a.pk < b.pk else b
    conflicts = sorted(
        {str(AidCase.Category(c.category).label) for c in pair.a.open_cases}
        & {str(AidCase.Category(c.category).label) for c in pair.b.open_cases}
    )
    return render(
        request,
        "aidcases/review/merge_confirm.html",
        {
            "pair": pair,
            "problem": problem,
            "suggested": suggested,
            "conflicts": conflicts,
            "next": _safe_next(request),
        },
    )


def _merge_problem(pair: review.DuplicatePair) -> str:
    a, b = pair.a.person, pair.b.person
    if not (a.is_active and b.is_active) or a.merged_into_id or b.merged_into_id:
        return _("其中一条记录已停用或已合并，不能再合并。")
    if pair.ids_differ:
        return _(
            "两条记录的身份证号码不同，不是同一人，不能合并。"
            "如果其中一个号码登记错了，请先在该记录上更正号码。"
        )
    return ""


def _merge(request: HttpRequest) -> HttpResponse:
    keep_id, drop_id = _int(request.POST.get("keep")), _int(request.POST.get("drop"))
    if drop_id is None:
        # The confirmation page sends the pair (a, b) and which one to keep.
        pair_ids = {_int(request.POST.get("a")), _int(request.POST.get("b"))} - {None}
        if keep_id in pair_ids and len(pair_ids) == 2:
            (drop_id,) = pair_ids - {keep_id}
    if keep_id is None or drop_id is None:
        messages.error(request, _("请选择要保留的记录。"))
        return _back(request)
    if keep_id == drop_id:
        messages.error(request, _("不能把记录与自己合并。"))
        return _back(request)
    keep, drop = review.review_people_for_merge(user=request.user, a_id=keep_id, b_id=drop_id)
    pair = review.DuplicatePair(a=review.ReviewPerson(keep), b=review.ReviewPerson(drop), kinds=[])
    problem = _merge_problem(pair)
    if problem:
        messages.error(request, problem)
        return _back(request)
    try:
        services.person_merge(acting_user=request.user, keep=keep, drop=drop)
    except ValidationError as exc:
        messages.error(request, "；".join(exc.messages))
        return _back(request)
    messages.success(
        request,
        _("已合并：“%(drop)s”（编号%(drop_pk)d）的档案、附件和家庭成员已转到“%(keep)s”（编号%(keep_pk)d），"
          "被合并的记录已停用。")
        % {"drop": drop.name, "drop_pk": drop.pk, "keep": keep.name, "keep_pk": keep.pk},
    )  # fmt: skip
    return _back(request)


@login_required
@require_POST
def person_distinct(request: HttpRequest) -> HttpResponse:
    _require_merge(request)
    a_id, b_id = _int(request.POST.get("a")), _int(request.POST.get("b"))
    if a_id is None or b_id is None or a_id == b_id:
        messages.error(request, _("请选择两条不同的记录。"))
        return _back(request)
    a, b = review.review_people_for_merge(user=request.user, a_id=a_id, b_id=b_id)
    services.person_mark_distinct(acting_user=request.user, a=a, b=b)
    messages.success(
        request,
        _("已确认“%(a)s”（编号%(a_pk)d）和“%(b)s”（编号%(b_pk)d）不是同一人，今后不再提示。")
        % {"a": a.name, "a_pk": a.pk, "b": b.name, "b_pk": b.pk},
    )
    return _back(request)
