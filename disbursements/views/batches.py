"""The batch screens: list, create, the batch page with its step indicator and the
buttons the user may use now, nominating, the 公示 (print and Excel), the payout list,
and paying. Every change goes through disbursements.services; a ValidationError becomes
a message on the page, a PermissionDenied a 403."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aidcases import selectors as people_selectors
from aidcases import services as hub_services
from aidcases.models import AidCase
from aidcases.pagination import CURSOR_PARAMS, keyset_paginate, paginate
from aidcases.people.filters import PersonFilter
from aidcases.services.people import person_id_search_record
from aidcases.viewutils import add_service_errors, querystring_without_page, require_perm
from disbursements import exports, services
from disbursements.forms.batches import (
    BatchCreateForm,
    BatchFilterForm,
    BulkForm,
    CommentForm,
    NominateForm,
    PayForm,
    PublicityForm,
    ReasonForm,
    ReverseForm,
    VerifyForm,
)
from disbursements.forms.once import new_token
from disbursements.models import AidBatch, AidLine, Fund
from disbursements.selectors import batches as selectors
from disbursements.services import batches as batch_services
from disbursements.workdays import working_days_end

S = AidBatch.State
L = AidLine.State
PAGE_SIZE = 50
NOMINATE_PAGE_SIZE = 30
MAX_NOMINATE = 500  # people added by one click

# The path a batch walks, as the step indicator shows it.
STEPS = [
    (S.DRAFT, _("提名")),
    (S.VERIFYING, _("审验核查")),
    (S.LOCKED, _("锁定名单")),
    (S.IN_APPROVAL, _("审批")),
    (S.IN_PUBLICITY, _("公示")),
    (S.RELEASED, _("发放")),
    (S.PAID, _("发放完成")),
    (S.CLOSED, _("结项")),
]
_STEP_INDEX = {state: i for i, (state, _label) in enumerate(STEPS)}
_STEP_INDEX[S.RECONCILED] = _STEP_INDEX[S.PAID]
PUBLISHED = (S.LOCKED, S.IN_APPROVAL, S.IN_PUBLICITY, S.RELEASED, S.PAID, S.RECONCILED, S.CLOSED)
PAYING = exports.PAYOUT_STATES


def _msg(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


# --- what the user may do now ---------------------------------------------------------


@dataclass
class Can:
    nominate: bool = False
    exclude: bool = False
    start_verification: bool = False
    verify: bool = False
    lock: bool = False
    submit: bool = False
    approve: bool = False
    reject: bool = False
    publicity: bool = False
    release: bool = False
    pay: bool = False
    reverse: bool = False
    abort: bool = False
    revise: bool = False
    close: bool = False
    publicity_files: bool = False
    payout_file: bool = False
    reconcile: bool = False


def allowed(user, batch: AidBatch) -> Can:
    """Only the buttons this user may use on this batch now (the services check again)."""
    perm = user.has_perm
    state = batch.state
    can = Can()
    editable = state in (S.DRAFT, S.VERIFYING)
    can.nominate = can.exclude = editable and perm("disbursements.nominate")
    can.start_verification = state == S.DRAFT and perm("disbursements.verify")
    can.verify = can.lock = state == S.VERIFYING and perm("disbursements.verify")
    can.submit = state == S.LOCKED and perm("disbursements.manage_batches")
    if state == S.IN_APPROVAL and perm("disbursements.approve"):
        own = batch.created_by_id == user.pk or batch.lines.filter(nominated_by=user).exists()
        done = batch.approvals.filter(round=batch.approval_round, approver=user).exists()
        can.approve = can.reject = not own and not done
    can.publicity = (
        state == S.IN_APPROVAL
        and perm("disbursements.manage_batches")
        and batch_services.approvals_given(batch) >= batch.approvals_required
    )
    can.release = (
        state == S.IN_PUBLICITY
        and perm("disbursements.pay")
        and batch.publicity_ends is not None
        and batch.publicity_ends < timezone.localdate()
    )
    can.pay = state == S.RELEASED and perm("disbursements.pay")
    can.reverse = state in PAYING and perm("disbursements.pay")
    can.abort = state in (
        S.DRAFT,
        S.VERIFYING,
        S.LOCKED,
        S.IN_APPROVAL,
        S.IN_PUBLICITY,
    ) and perm("disbursements.manage_batches")
    can.revise = state in (S.LOCKED, S.IN_APPROVAL, S.IN_PUBLICITY) and perm(
        "disbursements.manage_batches"
    )
    can.close = state in (S.PAID, S.RECONCILED) and perm("disbursements.manage_batches")
    can.publicity_files = state in PUBLISHED
    can.payout_file = state in PAYING and perm("disbursements.view_money")
    can.reconcile = state in (S.RELEASED, S.PAID) and perm("disbursements.pay")
    return can


# --- list and create ------------------------------------------------------------------


@login_required
def batch_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "disbursements.view_batches")
    programmes = selectors.programmes_for(user=request.user)
    form = BatchFilterForm(request.GET or None, programmes=programmes)
    filters = form.cleaned_data if form.is_valid() else {}
    batches = selectors.batch_list(
        user=request.user,
        programme=filters.get("programme"),
        state=filters.get("state", ""),
        school_year=filters.get("school_year"),
    )
    page = paginate(batches, request.GET.get("page"), per_page=PAGE_SIZE)
    page.object_list = selectors.with_line_totals(list(page.object_list), user=request.user)
    return render(
        request,
        "disbursements/batches/batch_list.html",
        {
            "form": form,
            "page": page,
            "qs": querystring_without_page(request),
            "can_create": request.user.has_perm("disbursements.manage_batches"),
        },
    )


@login_required
def batch_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "disbursements.manage_batches")
    programmes = selectors.programmes_for(user=request.user).filter(is_active=True)
    funds = Fund.objects.filter(is_active=True, programmes__in=programmes).distinct()
    form = BatchCreateForm(request.POST or None, programmes=programmes, funds=funds)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = services.batch_create(
                acting_user=request.user,
                programme=data["programme"],
                name=data["name"],
                school_year=data["school_year"],
                term=data["term"],
                month=data["month"],
                fund=data["fund"],
                client_token=form.token,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新建批次“%(name)s”。") % {"name": batch.name})
            return redirect(batch)
    fund_map = {
        str(p.pk): [f.pk for f in p.funds.all()] for p in programmes.prefetch_related("funds")
    }
    return render(
        request,
        "disbursements/batches/batch_form.html",
        {"form": form, "fund_map": json.dumps(fund_map)},
    )


# --- the batch page -------------------------------------------------------------------


def _steps(batch: AidBatch) -> list[dict]:
    current = _STEP_INDEX.get(batch.state, -1)
    return [
        {
            "label": label,
            "done": batch.state != S.ABORTED and i < current,
            "current": i == current,
        }
        for i, (_state, label) in enumerate(STEPS)
    ]


@login_required
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_for_user_or_404(user=request.user, pk=pk)
    user = request.user
    lines = selectors.lines_for(user=user, batch=batch)
    state_filter = request.GET.get("state", "")
    if state_filter in L.values:
        lines = lines.filter(state=state_filter)
    else:
        state_filter = ""
    # By key (下一页 carries after=<id>): the last page of a 5,000-line batch costs what
    # the first does; OFFSET joined and threw away the 4,950 lines before it.
    page = keyset_paginate(lines, request.GET, per_page=PAGE_SIZE)
    rows = page.object_list
    warnings = selectors.warnings_for(rows, batch)
    for line in rows:
        line.warnings = warnings.get(line.pk, [])
    can = allowed(user, batch)
    today = timezone.localdate()
    start = max(today, batch.publicity_starts or today)
    return render(
        request,
        "disbursements/batches/batch_detail.html",
        {
            "batch": batch,
            "steps": _steps(batch),
            "page": page,
            "qs": _query_without_cursor(request),
            "state_filter": state_filter,
            "line_states": L.choices,
            "summary": selectors.line_summary(user=user, batch=batch),
            "approvals": selectors.approvals_this_round(batch),
            "approvals_given": batch_services.approvals_given(batch),
            "can": can,
            "snapshot": batch.state in PUBLISHED,
            "verify_methods": AidLine.Verification.choices,
            "pay_methods": AidLine.Method.choices,
            "today": today,
            "publicity_start": start,
            "publicity_days": settings.PUBLICITY_WORKING_DAYS,
            "publicity_end": working_days_end(start, settings.PUBLICITY_WORKING_DAYS),
            "workdays_json": json.dumps(
                {
                    "days": settings.PUBLICITY_WORKING_DAYS,
                    "holidays": [str(d) for d in settings.PUBLIC_HOLIDAYS],
                    "makeup": [str(d) for d in settings.MAKEUP_WORKDAYS],
                }
            ),
            "bulk": can.verify or can.pay,
            "county_scope": user.is_county_level,
        },
    )


def _query_without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    for key in CURSOR_PARAMS:
        params.pop(key, None)
    return params.urlencode()


ACTIONS = {
    "start_verification": lambda u, b, d: services.batch_start_verification(acting_user=u, batch=b),
    "lock": lambda u, b, d: services.batch_lock(acting_user=u, batch=b),
    "submit": lambda u, b, d: services.batch_submit(acting_user=u, batch=b),
    "approve": lambda u, b, d: services.batch_approve(
        acting_user=u, batch=b, comment=d.get("comment", "")
    ),
    "reject": lambda u, b, d: services.batch_reject(
        acting_user=u, batch=b, comment=d.get("comment", "")
    ),
    "release": lambda u, b, d: services.batch_release(acting_user=u, batch=b),
    "abort": lambda u, b, d: services.batch_abort(
        acting_user=u, batch=b, comment=d.get("comment", "")
    ),
    "revise": lambda u, b, d: services.batch_revise(
        acting_user=u, batch=b, comment=d.get("comment", "")
    ),
    "close": lambda u, b, d: services.batch_close(acting_user=u, batch=b),
}
DONE = {
    "start_verification": _("已提交审验核查。"),
    "lock": _("名单已锁定。"),
    "submit": _("已提交审批。"),
    "approve": _("已审批同意。"),
    "reject": _("已退回。"),
    "publicity": _("已开始公示。"),
    "release": _("已下达发放，资金已承诺。"),
    "abort": _("批次已终止。"),
    "revise": _("名单已退回修改，需重新核查、审批和公示。"),
    "close": _("批次已结项。"),
}


@login_required
@require_POST
def batch_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    batch = selectors.batch_for_user_or_404(user=request.user, pk=pk)
    if action not in ACTIONS and action != "publicity":
        raise PermissionDenied
    try:
        if action == "publicity":
            form = PublicityForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("请填写公示开始日期、异议受理电话和公示单位。"))
            services.batch_start_publicity(
                acting_user=request.user, batch=batch, **form.cleaned_data
            )
        else:
            comment = CommentForm(request.POST)
            data = comment.cleaned_data if comment.is_valid() else {}
            ACTIONS[action](request.user, batch, data)
    except ValidationError as exc:
        messages.error(request, _msg(exc))
    else:
        messages.success(request, DONE[action])
    return redirect(batch)


# --- lines ----------------------------------------------------------------------------


def _back(line: AidLine, request: HttpRequest):
    nxt = request.POST.get("next", "")
    if nxt.startswith("?"):
        return redirect(line.batch.get_absolute_url() + nxt)
    return redirect(line.batch)


@login_required
@require_POST
def line_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """verify / fail / exclude one line (the small forms in the list)."""
    line = selectors.line_for_user_or_404(user=request.user, pk=pk)
    try:
        if action == "verify":
            form = VerifyForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("请选择核查方式。"))
            services.line_verify(acting_user=request.user, line=line, **form.cleaned_data)
            done = _("已核查 %(name)s。")
        elif action in ("fail", "exclude"):
            form = ReasonForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            if action == "fail":
                services.line_mark_failed(acting_user=request.user, line=line, reason=reason)
                done = _("已将 %(name)s 标记为发放失败。")
            else:
                services.line_exclude(acting_user=request.user, line=line, reason=reason)
                done = _("已将 %(name)s 剔除出名单。")
        else:
            raise PermissionDenied
    except ValidationError as exc:
        messages.error(request, _msg(exc))
    else:
        messages.success(request, done % {"name": line.snap_name or line.person.name})
    return _back(line, request)


@login_required
def line_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one line paid; cash and in-kind need the signed receipt, which the service
    stores as the person's attachment (the hub's upload rules) in the same transaction."""
    line = selectors.line_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "disbursements.pay")
    form = PayForm(
        request.POST or None,
        request.FILES or None,
        initial={"paid_on": timezone.localdate(), "method": AidLine.Method.BANK},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.line_mark_paid(
                acting_user=request.user,
                line=line,
                paid_on=data["paid_on"],
                method=data["method"],
                voucher=data["voucher"],
                receipt_file=data["receipt"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, rename={"file": "receipt"})
        else:
            messages.success(request, _("已将 %(name)s 标记为已发放。") % {"name": line.snap_name})
            return redirect(line.batch)
    return render(
        request,
        "disbursements/batches/line_pay.html",
        {"line": line, "batch": line.batch, "form": form},
    )


@login_required
def line_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    line = selectors.line_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "disbursements.pay")
    form = ReverseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.line_reverse(acting_user=request.user, line=line, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已冲正 %(name)s，资金已退回。") % {"name": line.snap_name})
            return redirect(line.batch)
    return render(
        request,
        "disbursements/batches/line_reverse.html",
        {"line": line, "batch": line.batch, "form": form},
    )


@login_required
@require_POST
def batch_bulk(request: HttpRequest, pk: int) -> HttpResponse:
    """Verify, pay (bank, one voucher) or fail the ticked lines. Paying and failing go
    through the bulk services (one transaction, a movement and an audit event per line);
    a line that cannot be done is named and the others still go through."""
    batch = selectors.batch_for_user_or_404(user=request.user, pk=pk)
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _msg(ValidationError(list(form.errors.values()))))
        return redirect(batch)
    data = form.cleaned_data
    action = data["action"]
    require_perm(request, "disbursements.verify" if action == "verify" else "disbursements.pay")
    scoped = selectors.lines_for(user=request.user, batch=batch).filter(pk__in=data["lines"])
    done, failed = 0, []
    if action == "verify":
        for line in scoped:
            try:
                services.line_verify(
                    acting_user=request.user, line=line, method=data["method"], note=data["note"]
                )
                done += 1
            except ValidationError as exc:
                failed.append(f"{line.snap_name or line.person.name}：{_msg(exc)}")
    else:
        line_ids = list(scoped.values_list("pk", flat=True))  # only lines in the user's scope
        try:
            if action == "pay":
                outcome = services.lines_mark_paid(
                    acting_user=request.user,
                    batch=batch,
                    line_ids=line_ids,
                    paid_on=data["paid_on"] or timezone.localdate(),
                    voucher=data["voucher"],
                )
            else:
                outcome = services.lines_mark_failed(
                    acting_user=request.user, batch=batch, line_ids=line_ids, reason=data["reason"]
                )
        except ValidationError as exc:
            messages.error(request, _msg(exc))
            return redirect(batch)
        done = len(outcome.done) + len(outcome.already)
        failed = [f"{line.snap_name or line.person_id}：{why}" for line, why in outcome.refused]
    if done:
        messages.success(request, _("已处理 %(n)d 人。") % {"n": done})
    if failed:
        messages.error(request, _("未处理：") + "；".join(failed[:10]))
    return redirect(batch)


# --- nominating -----------------------------------------------------------------------


def _nominate_page(request, batch, template, extra):
    if not allowed(request.user, batch).nominate:
        raise PermissionDenied
    return render(request, template, {"batch": batch, **extra})


# The people list's parameters that the nominate page passes on (its own: page, all).
def _filter_params(data) -> QueryDict:
    params = QueryDict(mutable=True)
    for name in PersonFilter.param_names():
        values = [v for v in data.getlist(name) if v.strip()]
        if values:
            params.setlist(name, values)
    return params


def _nominate_filter(request, data) -> PersonFilter:
    filterset = PersonFilter(
        data, queryset=people_selectors.people_for(user=request.user), user=request.user
    )
    filterset.refresh_villages_from(reverse("person_village_options"))
    return filterset


@login_required
def batch_nominate(request: HttpRequest, pk: int) -> HttpResponse:
    """Add from the people list, with its filters (乡镇, 村, 类别, 认定等级, 困难类型, 学校,
    年级 …, the hub's PersonFilter): tick people on the page, or nominate everyone the
    filters find (at most MAX_NOMINATE a click). Only open cases in scope that fit the
    programme and are not in the batch yet; the amount defaults to the standard."""
    batch = selectors.batch_for_user_or_404(user=request.user, pk=pk)
    if request.method == "POST":
        if request.POST.get("all") == "1":
            return _nominate_all(request, batch)
        return _nominate_post(request, batch)
    if not allowed(request.user, batch).nominate:
        raise PermissionDenied
    params = _filter_params(request.GET)
    query = params.get("q", "")
    id_kind = people_selectors.id_search_kind(
        query, id_tails=request.user.has_perm("aidcases.reveal_id_number")
    )
    if id_kind == "whole":
        # a whole ID number would sit in the URL (and its logs): not here
        messages.info(
            request,
            _("这里不能按完整身份证号码查找；请输入姓名或尾号，或用“从Excel名单导入”。"),
        )
        params.pop("q")
        return redirect(f"{reverse('batch_nominate', args=[batch.pk])}?{params.urlencode()}")
    searched = "q" in request.GET or bool(params)
    filterset = _nominate_filter(request, params if searched else None)
    page = None
    if searched:
        cases = selectors.filtered_candidates(user=request.user, batch=batch, filterset=filterset)
        page = paginate(cases, request.GET.get("page"), per_page=NOMINATE_PAGE_SIZE)
        page.object_list = list(page.object_list)
        for case in page.object_list:
            case.standard = batch.programme.standard_for(case.hardship_level)
        if id_kind == "tail" and filterset.is_valid():
            person_id_search_record(
                acting_user=request.user, kind=id_kind, matches=page.paginator.count
            )
    advanced = [n for n in params if n not in ("q", "sort")]
    return _nominate_page(
        request,
        batch,
        "disbursements/batches/nominate.html",
        {
            "filter": filterset,
            "query": query,
            "page": page,
            "qs": querystring_without_page(request),
            "filter_params": [(k, v) for k in params for v in params.getlist(k)],
            "advanced_open": bool(advanced) or bool(filterset.form.errors),
            "max_nominate": MAX_NOMINATE,
            "client_token": new_token(),
        },
    )


def _nominate_all(request, batch):
    """Everyone the people-list filters find (re-applied now, in the user's scope), at
    the standard amounts, each through line_add: whoever cannot be added is named."""
    if not allowed(request.user, batch).nominate:
        raise PermissionDenied
    params = _filter_params(request.POST)
    back = f"{reverse('batch_nominate', args=[batch.pk])}?{params.urlencode()}"
    filterset = _nominate_filter(request, params)
    if not params or not filterset.is_valid():
        messages.error(request, _("请先设置筛选条件。"))
        return redirect(back)
    cases = list(
        selectors.filtered_candidates(user=request.user, batch=batch, filterset=filterset)[
            : MAX_NOMINATE + 1
        ]
    )
    more = len(cases) > MAX_NOMINATE
    token = _form_token(request)
    added, problems = [], []
    for case in cases[:MAX_NOMINATE]:
        try:
            line = services.line_add(
                acting_user=request.user,
                batch=batch,
                case=case,
                client_token=f"{token}:{case.pk}" if token else None,
            )
            added.append(line.person.name)
        except ValidationError as exc:
            problems.append(f"{case.person.name}：{_msg(exc)}")
        except Http404:
            continue  # out of scope since the page was shown
    _nominate_messages(request, added, problems)
    if more:
        messages.info(
            request,
            _("一次最多提名 %(n)d 人，符合条件的还有未提名的，可再次点击继续。")
            % {"n": MAX_NOMINATE},
        )
    return redirect(batch)


def _nominate_messages(request, added: list[str], problems: list[str]) -> None:
    if added:
        messages.success(
            request,
            _("已提名 %(n)d 人：%(names)s") % {"n": len(added), "names": "、".join(added[:10])},
        )
    if problems:
        messages.error(request, "；".join(list(dict.fromkeys(problems))[:20]))
    if not added and not problems:
        messages.info(request, _("没有提名任何人。"))


@login_required
def batch_suggest(request: HttpRequest, pk: int) -> HttpResponse:
    """Suggest from the programme's rules, each with why it qualifies."""
    batch = selectors.batch_for_user_or_404(user=request.user, pk=pk)
    if request.method == "POST":
        return _nominate_post(request, batch)
    return _nominate_page(
        request,
        batch,
        "disbursements/batches/suggest.html",
        {
            "suggestions": selectors.suggestions(user=request.user, batch=batch),
            "rules": selectors.programme_rules(batch.programme),
            "client_token": new_token(),
        },
    )


def _form_token(request) -> str | None:
    """The page's one-time token (a hidden field), if it is a well-formed one."""
    raw = request.POST.get("client_token", "")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        return None


def _nominate_post(request, batch):
    if not allowed(request.user, batch).nominate:
        raise PermissionDenied
    ids = request.POST.getlist("case")
    token = _form_token(request)
    added, problems = [], []
    for raw in ids[:MAX_NOMINATE]:
        form = NominateForm({"case": raw, "amount": request.POST.get(f"amount_{raw}", "")})
        if not form.is_valid():
            problems.append(_("金额填写有误。"))
            continue
        case = AidCase.objects.filter(pk=form.cleaned_data["case"]).first()
        if case is None:
            continue  # answered as "nothing added", like an id out of scope
        try:
            line = services.line_add(
                acting_user=request.user,
                batch=batch,
                case=case,
                amount=form.cleaned_data["amount"],
                # one token per person on the form: a resent form adds nobody twice
                client_token=f"{token}:{case.pk}" if token else None,
            )
            added.append(line.person.name)
        except ValidationError as exc:
            problems.append(_msg(exc))
        except Http404:
            continue  # a case out of scope: answered as if it did not exist
    _nominate_messages(request, added, problems)
    return redirect(batch)


# --- 公示 and the payout list -----------------------------------------------------


def _published_or_404(request, pk):
    batch = selectors.batch_for_user_or_404(user=request.user, pk=pk)
    if batch.state not in PUBLISHED:
        messages.error(request, _("名单锁定后才能生成公示。"))
        return batch, redirect(batch)
    return batch, None


@login_required
def batch_publicity(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable A4 公示 page."""
    batch, refused = _published_or_404(request, pk)
    if refused:
        return refused
    lines = exports.publicity_lines(selectors.lines_for(user=request.user, batch=batch))
    rows = exports.public_rows(batch, lines)
    return render(
        request,
        "disbursements/batches/publicity.html",
        {
            "batch": batch,
            "rows": rows,
            "total": sum((r.amount for r in rows), start=0),
            "notes": exports.publicity_notes(batch),
            "mask_age": exports.mask_under_age(),
            "printing": request.GET.get("print") == "1",
        },
    )


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    response["Cache-Control"] = "no-store"
    return response


@login_required
def batch_publicity_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    batch, refused = _published_or_404(request, pk)
    if refused:
        return refused
    content = exports.publicity_xlsx(
        acting_user=request.user,
        batch=batch,
        lines=selectors.lines_for(user=request.user, batch=batch),
    )
    return _xlsx(content, f"公示名单_{batch.pk}.xlsx")


@login_required
@require_POST
def batch_payout_export(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the payout list as a background job (exports.payout_job); its page shows
    the progress and, when done, the download link."""
    batch = selectors.batch_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "disbursements.view_money")
    if batch.state not in PAYING:
        messages.error(request, _("下达发放后才能导出发放名单。"))
        return redirect(batch)
    job = hub_services.job_start(
        acting_user=request.user, kind="batch_payout_export", params={"batch": batch.pk}
    )
    messages.info(request, _("正在后台生成发放名单，完成后可在此下载。"))
    return redirect("job_detail", pk=job.pk)
