"""Screens for where money comes from: sources, funds and their ledger, money in (entries),
goods (物资) and programmes. County-level money readers only (`view_money`): a township
officer is told 403 whatever the id; out of scope is a 404 (access.py). Views call one
service and turn its ValidationError into a message on the form."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aidcases import pii
from aidcases.models import hardship_level_choices
from aidcases.pagination import CURSOR_PARAMS, keyset_paginate, paginate
from aidcases.viewutils import add_service_errors, querystring_without_page, require_perm
from disbursements import services
from disbursements.forms.funds import (
    CancelForm,
    DistributeForm,
    FundDeactivateForm,
    FundEntryForm,
    FundForm,
    FundingSourceForm,
    GoodsForm,
    ProgrammeForm,
    SourceFilterForm,
)
from disbursements.models import Fund, FundEntry, FundMovement
from disbursements.selectors import funds as selectors
from disbursements.services import FundEntryData, GoodsData, ProgrammeData

VIEW = "disbursements.view_money"
MANAGE = "disbursements.manage_funds"
MANAGE_PROGRAMMES = "disbursements.manage_batches"
PAGE_SIZE = 50
LEDGER_PAGE_SIZE = 50
RECENT_ENTRIES = 10


def _int(value) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


# --- sources ---------------------------------------------------------------------


@login_required
def source_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, VIEW)
    form = SourceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page = paginate(
        selectors.source_list(
            user=request.user, q=filters.get("q", ""), kind=filters.get("kind", "")
        ),
        request.GET.get("page"),
        per_page=PAGE_SIZE,
    )
    for source in page:
        # a donor's phone is shown in full only on the edit page (to those who may edit)
        source.phone_masked = pii.mask_phone(source.contact_phone) if source.contact_phone else ""
    return render(
        request,
        "disbursements/funds/source_list.html",
        {
            "form": form,
            "page": page,
            "qs": querystring_without_page(request),
            "can_manage": request.user.has_perm(MANAGE),
        },
    )


@login_required
def source_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, MANAGE)
    form = FundingSourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            source = services.funding_source_create(acting_user=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新增资金来源“%(name)s”。") % {"name": source.name})
            return redirect("source_list")
    return render(request, "disbursements/funds/source_form.html", {"form": form})


@login_required
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE)
    source = selectors.source_for_user_or_404(user=request.user, pk=pk)
    initial = {
        name: getattr(source, name)
        for name in ("kind", "name", "contact_name", "contact_phone", "publish_name", "notes")
    }
    initial["is_active"] = source.is_active
    form = FundingSourceForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.funding_source_update(
                acting_user=request.user, source=source, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("已保存资金来源“%(name)s”。") % {"name": source.name})
            else:
                messages.info(request, _("没有修改。"))
            return redirect("source_list")
    return render(request, "disbursements/funds/source_form.html", {"form": form, "source": source})


# --- funds -----------------------------------------------------------------------


@login_required
def fund_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, VIEW)
    show_inactive = request.GET.get("all") == "1"
    funds = list(selectors.fund_list(user=request.user, include_inactive=show_inactive))
    return render(
        request,
        "disbursements/funds/fund_list.html",
        {
            "funds": funds,
            "totals": selectors.fund_totals(user=request.user),
            "money_in_this_year": selectors.money_in_this_year(user=request.user),
            "year": timezone.localdate().year,
            "show_inactive": show_inactive,
            "can_manage": request.user.has_perm(MANAGE),
        },
    )


def _ledger_link(movement: FundMovement) -> tuple[str, str] | None:
    """Where a movement came from: its entry, or the batch (and line) that moved it."""
    if movement.entry_id:
        label = _("入账冲销") if movement.entry.cancels_id else _("入账记录")
        return reverse("entry_detail", args=[movement.entry_id]), label
    if movement.batch_id or movement.line_id:
        batch_id = movement.batch_id or movement.line.batch_id
        try:
            url = reverse("batch_detail", args=[batch_id])
        except NoReverseMatch:  # the batch screens are not installed
            return None
        if movement.line_id:
            return f"{url}#line-{movement.line_id}", _("资助名单行")
        return url, str(movement.batch) if movement.batch_id else _("资助批次")
    return None


@login_required
def fund_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, VIEW)
    fund = selectors.fund_for_user_or_404(user=request.user, pk=pk)
    ledger = keyset_paginate(
        selectors.fund_ledger(user=request.user, fund=fund),
        request.GET,
        per_page=LEDGER_PAGE_SIZE,
        count_queryset=FundMovement.objects.filter(fund=fund),
    )
    rows = [(m, _ledger_link(m)) for m in ledger]
    entries = list(selectors.entry_list(user=request.user, fund=fund)[:RECENT_ENTRIES])
    return render(
        request,
        "disbursements/funds/fund_detail.html",
        {
            "fund": fund,
            "page": ledger,
            "rows": rows,
            "qs": _query_without_cursor(request),
            "entries": entries,
            "can_manage": request.user.has_perm(MANAGE),
            "deactivate_form": FundDeactivateForm(),
        },
    )


def _query_without_cursor(request: HttpRequest) -> str:
    params = request.GET.copy()
    for key in CURSOR_PARAMS:
        params.pop(key, None)
    return params.urlencode()


def _fund_form_context(request, form, picked):
    query = request.POST.get("q", "") if request.method == "POST" else ""
    found = selectors.people_to_pick(user=request.user, query=query) if query else []
    return {"form": form, "picked": picked, "found": found, "q": query}


@login_required
def fund_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, MANAGE)
    programmes = selectors.programme_list(user=request.user).filter(is_active=True)
    form = FundForm(request.POST or None, programmes=programmes)
    picked = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        restriction, picked = _restriction(request, form, data)
        if not form.errors:
            try:
                fund = services.fund_create(
                    acting_user=request.user,
                    name=data["name"],
                    purpose=data["purpose"],
                    **restriction,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("已新增专项资金“%(name)s”。") % {"name": fund.name})
                return redirect("fund_detail", pk=fund.pk)
    elif request.method == "POST" and form.data.get("restricted_person"):
        picked = selectors.person_in_scope(user=request.user, pk=form.data["restricted_person"])
    return render(
        request, "disbursements/funds/fund_form.html", _fund_form_context(request, form, picked)
    )


def _restriction(request, form, data) -> tuple[dict, object]:
    """The restriction's fields from a valid FundForm; the person is checked in scope."""
    kind = data["restriction"]
    restriction = {"restriction": kind}
    picked = None
    if kind == Fund.Restriction.PROGRAMME:
        restriction["restricted_programme"] = data["restricted_programme"]
    elif kind == Fund.Restriction.SCHOOL:
        restriction["restricted_school_name"] = data["restricted_school_name"].strip()
    elif kind == Fund.Restriction.PERSON:
        picked = selectors.person_in_scope(user=request.user, pk=data["restricted_person"])
        if picked is None:
            form.add_error(None, _("找不到该受助人，请重新搜索选择。"))
        restriction["restricted_person"] = picked
    return restriction, picked


@login_required
def fund_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Name, purpose and restriction; the totals change only through movements."""
    require_perm(request, MANAGE)
    fund = selectors.fund_for_user_or_404(user=request.user, pk=pk)
    # the active programmes, and the one the fund is tied to even when it has ended
    programmes = selectors.programme_list(user=request.user).filter(
        Q(is_active=True) | Q(pk=fund.restricted_programme_id)
    )
    initial = {
        "name": fund.name,
        "purpose": fund.purpose,
        "restriction": fund.restriction,
        "restricted_programme": fund.restricted_programme_id,
        "restricted_school_name": fund.restricted_school_name,
        "restricted_person": fund.restricted_person_id,
    }
    form = FundForm(request.POST or None, initial=initial, programmes=programmes)
    picked = fund.restricted_person if request.method != "POST" else None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        restriction, picked = _restriction(request, form, data)
        if not form.errors:
            try:
                changed = services.fund_update(
                    acting_user=request.user,
                    fund=fund,
                    name=data["name"],
                    purpose=data["purpose"],
                    **restriction,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if changed:
                    messages.success(request, _("已保存专项资金“%(name)s”。") % {"name": fund.name})
                else:
                    messages.info(request, _("没有修改。"))
                return redirect("fund_detail", pk=fund.pk)
    elif request.method == "POST" and form.data.get("restricted_person"):
        picked = selectors.person_in_scope(user=request.user, pk=form.data["restricted_person"])
    context = _fund_form_context(request, form, picked)
    context["fund"] = fund
    return render(request, "disbursements/funds/fund_form.html", context)


@login_required
@require_POST
def fund_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE)
    fund = selectors.fund_for_user_or_404(user=request.user, pk=pk)
    form = FundDeactivateForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.fund_deactivate(acting_user=request.user, fund=fund, reason=reason)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("已停用“%(name)s”。") % {"name": fund.name})
    return redirect("fund_detail", pk=fund.pk)


@login_required
@require_POST
def fund_reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE)
    fund = selectors.fund_for_user_or_404(user=request.user, pk=pk)
    services.fund_reactivate(acting_user=request.user, fund=fund)
    messages.success(request, _("已重新启用“%(name)s”。") % {"name": fund.name})
    return redirect("fund_detail", pk=fund.pk)


@login_required
def person_pick(request: HttpRequest) -> HttpResponse:
    """htmx: people in scope by name, as radio buttons of the form that asked."""
    require_perm(request, VIEW)
    field = request.GET.get("field")
    field = field if field in ("restricted_person", "person") else "person"
    query = request.GET.get("q", "")[:50]
    return render(
        request,
        "disbursements/funds/_person_pick.html",
        {
            "found": selectors.people_to_pick(user=request.user, query=query),
            "field": field,
            "q": query,
        },
    )


# --- entries ---------------------------------------------------------------------


@login_required
def entry_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, VIEW)
    fund = None
    fund_id = _int(request.GET.get("fund"))
    if fund_id:
        fund = selectors.fund_for_user_or_404(user=request.user, pk=fund_id)
    state = request.GET.get("state", "")
    if state not in FundEntry.State.values:
        state = ""
    page = paginate(
        selectors.entry_list(user=request.user, fund=fund, state=state),
        request.GET.get("page"),
        per_page=PAGE_SIZE,
    )
    return render(
        request,
        "disbursements/funds/entry_list.html",
        {
            "page": page,
            "fund": fund,
            "state": state,
            "states": FundEntry.State.choices,
            "qs": querystring_without_page(request),
            "can_manage": request.user.has_perm(MANAGE),
        },
    )


def _entry_form(request, *, initial=None):
    return FundEntryForm(
        request.POST or None,
        initial=initial,
        sources=selectors.active_sources(user=request.user),
        funds=selectors.active_funds(user=request.user),
    )


def _entry_data(form) -> FundEntryData:
    d = form.cleaned_data
    return FundEntryData(
        source=d["source"],
        fund=d["fund"],
        amount=d["amount"],
        received_on=d["received_on"],
        document_number=d["document_number"],
        receipt_state=d["receipt_state"],
        notes=d["notes"],
    )


@login_required
def entry_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, MANAGE)
    initial = {"received_on": timezone.localdate()}
    fund_id = _int(request.GET.get("fund"))
    if fund_id:
        initial["fund"] = selectors.fund_for_user_or_404(user=request.user, pk=fund_id)
    form = _entry_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entry = services.fund_entry_create(
                acting_user=request.user, data=_entry_data(form), client_token=form.token
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("已登记入账草稿。核对无误后请点击“确认入账”，金额才计入资金余额。")
            )
            return redirect("entry_detail", pk=entry.pk)
    return render(request, "disbursements/funds/entry_form.html", {"form": form})


@login_required
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE)
    entry = selectors.entry_for_user_or_404(user=request.user, pk=pk)
    if entry.state != FundEntry.State.DRAFT:
        messages.info(request, _("已入账的记录不能修改；如有错误，请冲销后重新登记。"))
        return redirect("entry_detail", pk=entry.pk)
    initial = {
        name: getattr(entry, name)
        for name in (
            "source",
            "fund",
            "amount",
            "received_on",
            "document_number",
            "receipt_state",
            "notes",
        )
    }
    form = _entry_form(request, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.fund_entry_update(
                acting_user=request.user, entry=entry, data=_entry_data(form)
            )
        except ValidationError as exc:
            if getattr(exc, "code", None) == "final":
                messages.info(request, exc.messages[0])
                return redirect("entry_detail", pk=entry.pk)
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已保存入账草稿。") if changed else _("没有修改。"))
            return redirect("entry_detail", pk=entry.pk)
    return render(request, "disbursements/funds/entry_form.html", {"form": form, "entry": entry})


def _entry_page(request, entry, *, cancel_form=None, status=200):
    return render(
        request,
        "disbursements/funds/entry_detail.html",
        {
            "entry": entry,
            "cancel_form": cancel_form or CancelForm(),
            "can_manage": request.user.has_perm(MANAGE),
        },
        status=status,
    )


@login_required
def entry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, VIEW)
    return _entry_page(request, selectors.entry_for_user_or_404(user=request.user, pk=pk))


@login_required
@require_POST
def entry_post(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE)
    entry = selectors.entry_for_user_or_404(user=request.user, pk=pk)
    try:
        services.fund_entry_post(acting_user=request.user, entry=entry)
    except ValidationError as exc:
        entry.refresh_from_db(fields=["state"])
        if entry.state != FundEntry.State.DRAFT:
            # a second click, or a colleague was quicker: nothing was posted twice
            messages.info(request, _("该笔入账已确认入账，未重复入账。"))
        else:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("已确认入账 ¥%(amount)s，已计入“%(fund)s”。")
            % {"amount": f"{entry.amount:,.2f}", "fund": entry.fund.name},
        )
    return redirect("entry_detail", pk=entry.pk)


@login_required
def entry_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE)
    entry = selectors.entry_for_user_or_404(user=request.user, pk=pk)
    if request.method != "POST":
        return redirect("entry_detail", pk=entry.pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _entry_page(request, entry, cancel_form=form, status=200)
    try:
        services.fund_entry_cancel(
            acting_user=request.user, entry=entry, reason=form.cleaned_data["reason"]
        )
    except services.InsufficientFunds as exc:
        form.add_error(
            None,
            _("不能冲销：%(why)s 这笔钱已有部分下达或支付，冲销会使资金余额小于零。")
            % {"why": " ".join(exc.messages)},
        )
        return _entry_page(request, entry, cancel_form=form, status=200)
    except ValidationError as exc:
        entry.refresh_from_db(fields=["state"])
        if entry.state == FundEntry.State.CANCELLED:
            messages.info(request, _("该笔入账已冲销，未重复冲销。"))
            return redirect("entry_detail", pk=entry.pk)
        add_service_errors(form, exc, rename={"notes": "reason"})
        return _entry_page(request, entry, cancel_form=form, status=200)
    messages.success(
        request,
        _("已冲销该笔入账：已登记一笔冲销记录，资金余额减少 ¥%(amount)s。")
        % {"amount": f"{entry.amount:,.2f}"},
    )
    return redirect("entry_detail", pk=entry.pk)


# --- goods -----------------------------------------------------------------------


@login_required
def goods_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, VIEW)
    page = paginate(selectors.goods_list(user=request.user), request.GET.get("page"))
    return render(
        request,
        "disbursements/funds/goods_list.html",
        {
            "page": page,
            "goods_value": selectors.goods_value(user=request.user),
            "qs": querystring_without_page(request),
            "can_manage": request.user.has_perm(MANAGE),
        },
    )


@login_required
def goods_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, MANAGE)
    form = GoodsForm(
        request.POST or None,
        initial={"received_on": timezone.localdate()},
        sources=selectors.active_sources(user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            donation = services.goods_receive(
                acting_user=request.user, data=GoodsData(**form.cleaned_data)
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已登记捐赠物资“%(item)s”。") % {"item": donation.item})
            return redirect("goods_detail", pk=donation.pk)
    return render(request, "disbursements/funds/goods_form.html", {"form": form})


def _goods_page(request, donation, form, picked=None, status=200):
    query = request.POST.get("q", "") if request.method == "POST" else ""
    return render(
        request,
        "disbursements/funds/goods_detail.html",
        {
            "donation": donation,
            "left": services.goods_left(donation),
            "distributions": list(
                selectors.goods_distributions(user=request.user, donation=donation)
            ),
            "form": form,
            "picked": picked,
            "found": selectors.people_to_pick(user=request.user, query=query) if query else [],
            "q": query,
            "can_manage": request.user.has_perm(MANAGE),
        },
        status=status,
    )


@login_required
def goods_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, VIEW)
    donation = selectors.goods_for_user_or_404(user=request.user, pk=pk)
    form = DistributeForm(initial={"given_on": timezone.localdate(), "recipient": "person"})
    return _goods_page(request, donation, form)


@login_required
@require_POST
def goods_distribute(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE)
    donation = selectors.goods_for_user_or_404(user=request.user, pk=pk)
    form = DistributeForm(request.POST)
    picked = None
    if form.data.get("person"):
        picked = selectors.person_in_scope(user=request.user, pk=form.data.get("person"))
    if form.is_valid():
        data = form.cleaned_data
        to_person = data["recipient"] == "person"
        if to_person and picked is None:
            form.add_error(None, _("找不到该受助人，请重新搜索选择。"))
        else:
            try:
                services.goods_distribute(
                    acting_user=request.user,
                    donation=donation,
                    quantity=data["quantity"],
                    given_on=data["given_on"],
                    person=picked if to_person else None,
                    school_name="" if to_person else data["school_name"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("已登记发放 %(qty)s%(unit)s。")
                    % {"qty": f"{data['quantity'].normalize():f}", "unit": donation.unit},
                )
                return redirect("goods_detail", pk=donation.pk)
    return _goods_page(request, donation, form, picked=picked)


# --- programmes ------------------------------------------------------------------


@login_required
def programme_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, VIEW)
    page = paginate(selectors.programme_list(user=request.user), request.GET.get("page"))
    labels = [*hardship_level_choices(), ("", _("未认定等级"))]
    for programme in page:
        amounts = programme.standard_amounts
        programme.amount_lines = [
            f"{label} ¥{Decimal(str(amounts[level])):,.2f}"
            for level, label in labels
            if amounts.get(level) not in (None, "")
        ]
    return render(
        request,
        "disbursements/funds/programme_list.html",
        {
            "page": page,
            "qs": querystring_without_page(request),
            "can_manage": request.user.has_perm(MANAGE_PROGRAMMES),
        },
    )


def _programme_data(form: ProgrammeForm) -> ProgrammeData:
    d = form.cleaned_data
    return ProgrammeData(
        name=d["name"],
        kind=d["kind"],
        mode=d["mode"],
        months=d.get("months"),
        standard_amounts=form.standard_amounts(),
        categories=d["categories"],
        levels=d["levels"],
        flags=d["flags"],
        school_stages=d["school_stages"],
        yearly_cap=d.get("yearly_cap"),
        funds=list(d["funds"]),
        approvals_required=d["approvals_required"],
        bands=form.bands(),
        is_active=d["is_active"],
    )


def _programme_form_page(request, programme=None):
    funds = selectors.active_funds(user=request.user)
    initial = ProgrammeForm.initial_for(programme) if programme else {"is_active": True}
    form = ProgrammeForm(request.POST or None, initial=initial, funds=funds)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.programme_save(
                acting_user=request.user, programme=programme, data=_programme_data(form)
            )
        except ValidationError as exc:
            add_service_errors(form, exc, rename={"standard_amounts": None, "bands": None})
        else:
            messages.success(request, _("已保存资助项目“%(name)s”。") % {"name": saved.name})
            return redirect("programme_list")
    return render(
        request,
        "disbursements/funds/programme_form.html",
        {"form": form, "programme": programme},
    )


@login_required
def programme_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, MANAGE_PROGRAMMES)
    return _programme_form_page(request)


@login_required
def programme_edit(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, MANAGE_PROGRAMMES)
    programme = selectors.programme_for_user_or_404(user=request.user, pk=pk)
    return _programme_form_page(request, programme)
