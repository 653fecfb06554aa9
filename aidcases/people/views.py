"""Screens of the beneficiary registry: the people list, register/edit a
person, open/edit/close cases, and starting the list's Excel export.

Thin views: objects come through selectors/access (out of scope = 404), input
through forms, every write through a service (atomic, audited).
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aidcases import access, pii, search, selectors, services
from aidcases.models import AidCase, Area, TekunProfile
from aidcases.pagination import CURSOR_PARAMS, keyset_paginate
from aidcases.people.filters import PersonFilter, with_list_columns
from aidcases.people.forms import (
    CLOSE_REASONS,
    CaseCloseForm,
    CaseEditForm,
    CaseOpenForm,
    PeopleExportForm,
    PersonForm,
    TekunProfileForm,
)
from aidcases.services.people import person_id_lookup, person_id_search_record
from aidcases.viewutils import add_service_errors, require_perm

PAGE_SIZE = 50


# --- list -------------------------------------------------------------------


# A whole ID number never reaches a URL (access logs, browser history, the
# Referer keep URLs): the search form POSTs, and the list is then shown at
# ?idq=<token>, a random key of this session that stands for the number's hash.
ID_QUERY_PARAM = "idq"
_SESSION_ID_QUERIES = "people_id_queries"
_SESSION_ID_QUERIES_KEPT = 20


def _remember_id_query(request: HttpRequest, digest: str) -> str:
    queries = request.session.get(_SESSION_ID_QUERIES, {})
    token = secrets.token_urlsafe(12)
    queries[token] = digest
    # Oldest first (dicts keep insertion order): keep the last few.
    request.session[_SESSION_ID_QUERIES] = dict(list(queries.items())[-_SESSION_ID_QUERIES_KEPT:])
    return token


def _id_query_hash(request: HttpRequest, token: str) -> str | None:
    return request.session.get(_SESSION_ID_QUERIES, {}).get(token)


def _without_whole_id(request: HttpRequest, data: QueryDict) -> QueryDict | None:
    """The parameters with a whole ID number (typed into q, or as its hash)
    swapped for a session token; None when there is none to swap."""
    query = search.normalize_query(data.get("q", ""))
    if search.is_whole_id(query):
        digest = pii.id_hash(pii.normalize_id_number(query))
    elif not query and data.get("idh"):
        digest = data["idh"]  # the same ID search, with another sort or filter
    else:
        return None
    params = data.copy()
    for name in ("q", "idh", "page", "csrfmiddlewaretoken"):
        params.pop(name, None)
    params[ID_QUERY_PARAM] = _remember_id_query(request, digest)
    return params


def _list_params(request: HttpRequest, data: QueryDict) -> QueryDict:
    """What the FilterSet reads: the session token turned back into the hash."""
    token = data.get(ID_QUERY_PARAM, "")
    if not token:
        return data
    params = data.copy()
    params.pop(ID_QUERY_PARAM)
    # An unknown or expired token finds nobody rather than everybody.
    params["idh"] = _id_query_hash(request, token) or "-"
    return params


@login_required
@require_http_methods(["GET", "POST"])
def person_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.view_person")
    if request.method == "POST":
        params = _without_whole_id(request, request.POST)
        if params is None:
            # A new query (name, tail) replaces an earlier whole-ID search.
            params = request.POST.copy()
            for name in ("csrfmiddlewaretoken", "idh", "page"):
                params.pop(name, None)
        return redirect(f"{reverse('person_list')}?{params.urlencode()}")
    swapped = _without_whole_id(request, request.GET)
    if swapped is not None:
        # An old bookmark or a hand-typed URL: at least the next pages, the
        # history and the Referer do not keep the number.
        return redirect(f"{reverse('person_list')}?{swapped.urlencode()}")
    data = _list_params(request, request.GET)
    filterset = PersonFilter(
        data or None, queryset=selectors.people_for(user=request.user), user=request.user
    )
    filterset.refresh_villages_from(reverse("person_village_options"))
    page = keyset_paginate(
        with_list_columns(filterset.qs),
        request.GET,
        per_page=PAGE_SIZE,
        count_queryset=filterset.qs,
    )
    id_search = "whole" if request.GET.get(ID_QUERY_PARAM) else ""
    id_search = id_search or selectors.id_search_kind(
        request.GET.get("q", ""), id_tails=request.user.has_perm("aidcases.reveal_id_number")
    )
    if id_search and filterset.is_valid():
        person_id_search_record(
            acting_user=request.user, kind=id_search, matches=page.paginator.count
        )
    for person in page:
        person.masked_id = person.masked_id_number
        person.masked_phone = pii.mask_phone(person.phone) if person.phone else ""
        person.open_levels = sorted(
            {c.get_hardship_level_display() for c in person.open_cases if c.hardship_level}
        )
    params = request.GET.copy()
    for name in CURSOR_PARAMS:
        params.pop(name, None)
    advanced = [n for n in filterset.form.fields if n not in ("q", "idh", "sort") and params.get(n)]
    return render(
        request,
        "aidcases/people/person_list.html",
        {
            "filter": filterset,
            "page": page,
            "qs": params.urlencode(),
            "export_params": [
                (k, v)
                for k in params
                if k in filterset.filters or k == ID_QUERY_PARAM
                for v in params.getlist(k)
                if v
            ],
            "export_form": PeopleExportForm(),
            "advanced_open": bool(advanced) or bool(filterset.form.errors),
            "id_query": bool(request.GET.get(ID_QUERY_PARAM)),
        },
    )


@login_required
@require_GET
def person_village_options(request: HttpRequest) -> HttpResponse:
    """htmx: the village <option>s of the chosen township (a township user's own
    villages when none is chosen; nothing for county users, who have hundreds)."""
    require_perm(request, "aidcases.view_person")
    villages = access.areas_for(request.user).filter(level=Area.Level.VILLAGE).order_by("path")
    township_id = request.GET.get("township", "")
    if township_id.isdigit():
        township = access.areas_for(request.user).filter(pk=township_id).first()
        villages = villages.filter(path__startswith=township.path) if township else villages.none()
    elif access.sees_everything(request.user):
        villages = villages.none()
    return render(request, "aidcases/people/_village_options.html", {"villages": villages})


# --- export -----------------------------------------------------------------


def export_params_from(data: QueryDict, id_query_hash: str | None = None) -> dict[str, list[str]]:
    """The list's filters as job params. A whole ID number typed into the search
    box (or the list's session token for one, `id_query_hash`) becomes its keyed
    hash, and an ID or phone tail its tail tokens: job params and audit rows hold no
    clear IDs, phones or tails of them."""
    params: dict[str, list[str]] = {}
    for name in PersonFilter.param_names():
        values = [v.strip() for v in data.getlist(name) if v.strip()]
        if values:
            params[name] = values
    query = search.normalize_query(params.get("q", [""])[0])
    if len(query) == 18 and query[:-1].isdigit():
        params.pop("q")
        params["idh"] = [pii.id_hash(pii.normalize_id_number(query))]
    elif id_query_hash:
        params.pop("q", None)
        params["idh"] = [id_query_hash]
    elif search.is_id_tail(query) or search.is_phone_tail(query):
        # A tail is as personal as the number it ends: store the tokens it searches by.
        # (Digits never match a name token, so the tokens alone give the same rows.)
        params.pop("q")
        if search.is_id_tail(query):
            params["qid"] = [pii.tail_token("id", query)]
        if search.is_phone_tail(query):
            params["qphone"] = [pii.tail_token("phone", query)]
    return params


@login_required
@require_POST
def person_export(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.export_people")
    form = PeopleExportForm(request.POST)
    full = form.is_valid() and form.cleaned_data["full"]
    if full and not request.user.has_perm("aidcases.reveal_id_number"):
        raise PermissionDenied
    token = request.POST.get(ID_QUERY_PARAM, "")
    filters = export_params_from(
        request.POST, (_id_query_hash(request, token) or "-") if token else None
    )
    filterset = PersonFilter(
        _querydict(filters),
        queryset=selectors.people_for(user=request.user),
        user=request.user,
    )
    if not filterset.is_valid():
        messages.error(request, _("筛选条件无效，请重新选择后再导出。"))
        return redirect("person_list")
    job = services.job_start(
        acting_user=request.user,
        kind="people_export",
        params={"filters": filters, "full": bool(full)},
    )
    return redirect(job)


def _querydict(params: dict[str, list[str]]) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, values in params.items():
        data.setlist(key, values)
    return data


# --- person create / edit ---------------------------------------------------


@login_required
def person_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "aidcases.change_person")
    form = PersonForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            # Outside the registration's transaction, so that the audit row of a
            # number found registered elsewhere survives the refusal.
            if data.get("id_number"):
                person_id_lookup(acting_user=request.user, id_number=data["id_number"])
            # Register and open the first case together, or neither.
            with transaction.atomic():
                person = services.person_register(
                    acting_user=request.user,
                    data=services.PersonData(**form.person_data_kwargs()),
                )
                if data.get("case_category"):
                    services.case_open(
                        acting_user=request.user,
                        person=person,
                        category=data["case_category"],
                        hardship_level=data.get("case_level") or "",
                        flags=data.get("case_flags") or [],
                    )
        except ValidationError as exc:
            add_service_errors(
                form,
                exc,
                {
                    "category": "case_category",
                    "hardship_level": "case_level",
                    "flags": "case_flags",
                },
            )
        else:
            messages.success(request, _("已登记帮扶对象“%(name)s”。") % {"name": person.name})
            return redirect(person)
    return render(request, "aidcases/people/person_form.html", {"form": form, "creating": True})


@login_required
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "aidcases.change_person")
    if person.merged_into_id:
        messages.info(request, _("该记录已合并到另一条记录，请在保留的记录上修改。"))
        return redirect("person_detail", pk=person.merged_into_id)
    form = PersonForm(
        request.POST or None,
        user=request.user,
        person=person,
        initial=PersonForm.initial_for(person, user=request.user),
    )
    if request.method == "GET":
        # Showing a stored phone in clear is a reveal, audited like the 显示 button.
        for field_name in form.clear_phones_shown():
            services.person_reveal(
                acting_user=request.user, person=person, field_name=field_name, via="edit_form"
            )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.person_update(
                acting_user=request.user,
                person=person,
                data=services.PersonData(**form.person_data_kwargs()),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("已保存“%(name)s”的信息。") % {"name": person.name})
            else:
                messages.info(request, _("没有需要保存的修改。"))
            return redirect(person)
    return render(
        request,
        "aidcases/people/person_form.html",
        {"form": form, "creating": False, "person": person, "back_url": person.get_absolute_url()},
    )


# --- cases ------------------------------------------------------------------


@login_required
def case_create(request: HttpRequest, pk: int) -> HttpResponse:
    person = selectors.person_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "aidcases.change_person")
    if not person.is_active:
        messages.error(request, _("该帮扶对象已停用或已合并，不能新建档案。"))
        return redirect(person)
    open_categories = set(
        person.cases.filter(status=AidCase.Status.OPEN).values_list("category", flat=True)
    )
    form = CaseOpenForm(request.POST or None, open_categories=open_categories)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            case = services.case_open(
                acting_user=request.user,
                person=person,
                category=data["category"],
                hardship_level=data["hardship_level"],
                flags=data["flags"],
                opened_on=data["opened_on"],
                notes=data["notes"].strip(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已为“%(name)s”新建“%(cat)s”档案。")
                % {"name": person.name, "cat": case.get_category_display()},
            )
            if case.category == AidCase.Category.TEKUN:
                messages.info(request, _("请补充特困人员信息（供养方式、健康状况等）。"))
                return redirect("case_edit", pk=case.pk)
            return redirect(person)
    return render(
        request,
        "aidcases/people/case_form.html",
        {"form": form, "person": person, "back_url": person.get_absolute_url()},
    )


@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "aidcases.change_person")
    form = CaseEditForm(
        request.POST or None,
        initial={"hardship_level": case.hardship_level, "flags": case.flags, "notes": case.notes},
    )
    tekun_form = None
    if case.category == AidCase.Category.TEKUN:
        profile = TekunProfile.objects.filter(case=case).first() or TekunProfile(case=case)
        tekun_form = TekunProfileForm(request.POST or None, instance=profile, prefix="tekun")
    forms_valid = form.is_valid() and (tekun_form is None or tekun_form.is_valid())
    if request.method == "POST" and forms_valid:
        data = form.cleaned_data
        try:
            with transaction.atomic():
                changed = services.case_update(
                    acting_user=request.user,
                    case=case,
                    hardship_level=data["hardship_level"],
                    flags=data["flags"],
                    notes=data["notes"].strip(),
                )
                if tekun_form is not None:
                    services.tekun_profile_save(
                        acting_user=request.user, case=case, **tekun_form.values()
                    )
                    changed = changed or tekun_form.has_changed()
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("已保存帮扶档案。"))
            else:
                messages.info(request, _("没有需要保存的修改。"))
            return redirect("person_detail", pk=case.person_id)
    return render(
        request,
        "aidcases/people/case_edit.html",
        {
            "form": form,
            "tekun_form": tekun_form,
            "case": case,
            "person": case.person,
            "back_url": case.person.get_absolute_url(),
        },
    )


@login_required
def case_close(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "aidcases.change_person")
    form = CaseCloseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.case_close(
                acting_user=request.user,
                case=case,
                closed_on=form.cleaned_data["closed_on"],
                reason=form.cleaned_data["closed_reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("“%(name)s”的“%(cat)s”档案已结案。")
                % {"name": case.person.name, "cat": case.get_category_display()},
            )
            return redirect("person_detail", pk=case.person_id)
    return render(
        request,
        "aidcases/people/case_close.html",
        {
            "form": form,
            "case": case,
            "person": case.person,
            "reasons": CLOSE_REASONS,
            "back_url": case.person.get_absolute_url(),
        },
    )
