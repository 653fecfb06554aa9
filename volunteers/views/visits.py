"""Views: visits (list, page, the phone form), due visits, the coverage grid,
follow-ups (list, page with its actions)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aidcases import access
from aidcases import selectors as hub_selectors
from aidcases.models import AidCase, Area, User
from aidcases.pagination import keyset_paginate, paginate
from aidcases.viewutils import add_service_errors, querystring_without_page, require_perm
from volunteers import services
from volunteers.forms.visits import (
    CloseForm,
    FollowUpCreateForm,
    FollowUpFilterForm,
    ReassignForm,
    ReferForm,
    ResolveForm,
    VisitFilterForm,
    VisitForm,
)
from volunteers.models import FollowUp, Volunteer
from volunteers.selectors import visits as selectors
from volunteers.selectors.visits import DueState, FollowUpTab

PAGE_SIZE = 50
COVERAGE_PAGE_SIZE = 100
DRAFT_SAVED_KEY = "visit_draft_saved"


# --- visits ------------------------------------------------------------------------


TEAM_OPTIONS_MAX = 200


def team_filter_options(teams, *, township, chosen=None) -> list | None:
    """The teams the filter offers: those of the chosen township, or all in scope when they
    are few; else only the chosen team, or None (choose a township first) — a county's
    3,000 teams made a 200 KB page."""
    if township is not None:
        teams = teams.filter(area__path__startswith=township.path)
    options = list(teams[: TEAM_OPTIONS_MAX + 1])
    if len(options) <= TEAM_OPTIONS_MAX:
        return options
    return [chosen] if chosen is not None else None


@login_required
def visit_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.view_visit")
    townships = hub_selectors.townships_for(user=request.user)
    teams = selectors.teams_for_visit(user=request.user)
    form = VisitFilterForm(request.GET or None, townships=townships, teams=teams)
    filters = form.cleaned_data if form.is_valid() else {}
    visits = selectors.visit_list(
        user=request.user,
        township=filters.get("township"),
        team=filters.get("team"),
        category=filters.get("category", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
        not_seen=filters.get("not_seen", False),
    )
    page = paginate(visits, request.GET.get("page"), per_page=PAGE_SIZE, ids_first=True)
    return render(
        request,
        "volunteers/visits/visit_list.html",
        {
            "form": form,
            "page": page,
            "qs": querystring_without_page(request),
            "township_options": list(townships),
            "team_options": team_filter_options(
                teams, township=filters.get("township"), chosen=filters.get("team")
            ),
            "can_record": request.user.has_perm("volunteers.add_visit"),
        },
    )


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "volunteers.view_visit")
    visit = selectors.visit_for_user_or_404(user=request.user, pk=pk)
    saved_token = request.session.pop(DRAFT_SAVED_KEY, None)
    return render(
        request,
        "volunteers/visits/visit_detail.html",
        {
            "visit": visit,
            "person": visit.case.person,
            "follow_ups": selectors.visit_follow_ups(visit=visit),
            "is_tekun": visit.case.category == AidCase.Category.TEKUN,
            "clear_draft": saved_token is not None,
            "today": timezone.localdate(),
            "can_follow_up": request.user.has_perm("volunteers.change_followup"),
            "follow_up_form": FollowUpCreateForm(
                initial={"due_on": timezone.localdate() + timedelta(days=14)}
            ),
        },
    )


def _visit_form(request: HttpRequest, data=None, initial=None) -> VisitForm:
    teams = selectors.teams_for_visit(user=request.user)
    volunteers = Volunteer.objects.filter(access.scope_q(Volunteer, request.user))
    return VisitForm(data, teams=teams, volunteers=volunteers, initial=initial)


def _chosen_case(request: HttpRequest, raw) -> AidCase | None:
    try:
        pk = int(raw)
    except (TypeError, ValueError):
        return None
    try:
        return selectors.case_for_visit_or_404(user=request.user, pk=pk)
    except Http404:
        return None


# Up to this many teams, the form carries every team's members (the script shows the chosen
# team's); beyond it, only the chosen team's.
MEMBER_LIST_TEAMS = 20


def _team_options(teams: list, *, case, selected: str) -> list:
    """The teams the form's <select> offers: all when they are a few hundred at most; else
    the teams of the chosen person's township and the chosen team (a county's 3,000 teams
    made the phone form 200 KB)."""
    if len(teams) <= TEAM_OPTIONS_MAX:
        return teams
    township = None
    if case is not None:
        area = case.person.area
        township = next(
            (a for a in [area, *area.ancestors()] if a.level == Area.Level.TOWNSHIP), None
        )
    return [
        t
        for t in teams
        if str(t.pk) == selected or (township and t.area.path.startswith(township.path))
    ]


@login_required
def visit_create(request: HttpRequest) -> HttpResponse:
    """The phone form: a plain POST form (works without JS); visit_form.js only adds the
    live person search, the category blocks and the draft kept in localStorage."""
    require_perm(request, "volunteers.add_visit")
    user = request.user
    teams = list(selectors.teams_for_visit(user=user))
    searching = request.method == "POST" and request.POST.get("action") == "search"
    if request.method == "POST":
        form = _visit_form(request, request.POST)
        case = _chosen_case(request, request.POST.get("case"))
        if not searching and form.is_valid():
            data = form.cleaned_data
            if case is None:
                form.add_error(
                    "case", _("请选择走访对象（您负责范围内在册的特困人员或留守儿童）。")
                )
            else:
                try:
                    visit = services.visit_record(
                        acting_user=user,
                        case=case,
                        team=data["team"],
                        date=data["date"],
                        visitors=data["visitors"],
                        mode=data["mode"],
                        seen_in_person=not data["not_seen"],
                        not_seen_reason=data["not_seen_reason"],
                        cares=form.cares(),
                        own_action=data["own_action"],
                        left_behind=form.left_behind(),
                        notes=data["notes"],
                        photos=request.FILES.getlist("photos"),
                        client_token=data["client_token"],
                    )
                except ValidationError as exc:
                    add_service_errors(form, exc)
                else:
                    request.session[DRAFT_SAVED_KEY] = str(data["client_token"])
                    opened = visit.follow_ups.count()
                    message = _("已保存%(name)s的走访记录。") % {"name": visit.case.person.name}
                    if opened:
                        message += _("已生成 %(n)s 条跟进事项。") % {"n": opened}
                    messages.success(request, message)
                    return redirect("visit_detail", pk=visit.pk)
        if searching:
            form.errors.clear()
    else:
        initial = {"client_token": uuid.uuid4(), "mode": "in_person"}
        own = [t for t in teams if t.leader_id == user.pk]
        if len(own) == 1 or (user.role == User.Role.TEAM_LEADER and own):
            initial["team"] = own[0].pk
        case = _chosen_case(request, request.GET.get("case"))
        if case is not None:
            initial["case"] = case.pk
        form = _visit_form(request, initial=initial)
    query = request.POST.get("q", "") if request.method == "POST" else ""
    choices = selectors.case_choices(user=user, q=query)
    if case is not None and case.pk not in {c.pk for c in choices}:
        choices.insert(0, case)
    # A county user may see thousands of teams: their members are listed for the chosen
    # team only (choosing another re-renders the form, with what was typed kept).
    selected_team = str(form["team"].value() or "")
    few_teams = len(teams) <= MEMBER_LIST_TEAMS
    offered = _team_options(teams, case=case, selected=selected_team)
    teams_cut, teams = len(offered) < len(teams), offered
    listed = teams if few_teams else [t for t in teams if str(t.pk) == selected_team]
    members = selectors.team_members(teams=listed)
    selected_visitors = {str(v) for v in (form["visitors"].value() or [])}
    return render(
        request,
        "volunteers/visits/visit_form.html",
        {
            "form": form,
            "case": case,
            "choices": choices,
            "query": query,
            "teams": teams,
            "team_members": [(t, members.get(t.pk, [])) for t in listed],
            "few_teams": few_teams,
            "teams_cut": teams_cut,
            "selected_visitors": selected_visitors,
            "selected_team": selected_team,
            "had_files": bool(request.FILES),
            "searching": searching,
        },
    )


@login_required
@require_POST
def visit_case_search(request: HttpRequest) -> HttpResponse:
    """htmx: the person picker's matches (POST, so that names stay out of URLs and logs)."""
    require_perm(request, "volunteers.add_visit")
    query = request.POST.get("q", "")
    return render(
        request,
        "volunteers/visits/_case_choices.html",
        {
            "choices": selectors.case_choices(user=request.user, q=query),
            "query": query,
            "chosen": request.POST.get("case", ""),
        },
    )


# --- due visits and coverage ---------------------------------------------------------


@login_required
def visit_due(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.view_visit")
    today = timezone.localdate()
    state = request.GET.get("state", DueState.OVERDUE)
    if state not in (DueState.OVERDUE, DueState.DUE, DueState.UPCOMING, "all"):
        state = DueState.OVERDUE
    wanted = "" if state == "all" else state
    rows = selectors.due_visits(user=request.user, today=today, state=wanted)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "volunteers/visits/visit_due.html",
        {
            "page": page,
            "state": state,
            "states": [
                (DueState.OVERDUE, DueState.LABELS[DueState.OVERDUE]),
                (DueState.DUE, DueState.LABELS[DueState.DUE]),
                (DueState.UPCOMING, DueState.LABELS[DueState.UPCOMING]),
                ("all", _("全部")),
            ],
            "labels": DueState.LABELS,
            "qs": querystring_without_page(request),
            "today": today,
            "can_record": request.user.has_perm("volunteers.add_visit"),
        },
    )


@login_required
def visit_coverage(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.view_visit")
    user = request.user
    today = timezone.localdate()
    townships = list(hub_selectors.townships_for(user=user))
    township = None
    wanted = request.GET.get("township")
    if len(townships) == 1:
        township = townships[0]
    elif wanted:
        township = next((t for t in townships if str(t.pk) == wanted), None)
    if township is None and user.area_id and not access.sees_everything(user):
        township = next((t for t in townships if user.area.path.startswith(t.path)), None)
    category = request.GET.get("category", AidCase.Category.TEKUN)
    if category not in selectors.VISITABLE_CATEGORIES:
        category = AidCase.Category.TEKUN
    periods = selectors.coverage_periods(category, today)
    page = rows = None
    if township is not None:
        cases = selectors.coverage_cases(user=user, township=township, category=category)
        page = keyset_paginate(cases, request.GET, per_page=COVERAGE_PAGE_SIZE)
        cells = selectors.coverage_cells(cases=list(page), category=category, periods=periods)
        rows = [(case, cells[case.pk]) for case in page]
    return render(
        request,
        "volunteers/visits/visit_coverage.html",
        {
            "townships": townships,
            "township": township,
            "category": category,
            "categories": [(c, AidCase.Category(c).label) for c in selectors.VISITABLE_CATEGORIES],
            "periods": periods,
            "page": page,
            "rows": rows,
            "qs": querystring_without_page(request),
        },
    )


# --- follow-ups ------------------------------------------------------------------------


@login_required
def follow_up_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.view_followup")
    today = timezone.localdate()
    tab = request.GET.get("tab", FollowUpTab.MINE)
    if tab not in dict(FollowUpTab.CHOICES):
        tab = FollowUpTab.MINE
    townships = hub_selectors.townships_for(user=request.user)
    form = FollowUpFilterForm(request.GET or None, townships=townships)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.follow_up_list(
        user=request.user,
        today=today,
        tab=tab,
        state=filters.get("state", ""),
        urgency=filters.get("urgency", ""),
        township=filters.get("township"),
    )
    page = paginate(rows, request.GET.get("page"), per_page=PAGE_SIZE, ids_first=True)
    return render(
        request,
        "volunteers/visits/follow_up_list.html",
        {
            "tab": tab,
            "tabs": FollowUpTab.CHOICES,
            "form": form,
            "page": page,
            "today": today,
            "township_options": list(townships),
            "qs": querystring_without_page(request),
        },
    )


FOLLOW_UP_ACTIONS = ("start", "resolve", "close", "reassign", "refer")


@login_required
def follow_up_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "volunteers.view_followup")
    follow_up = selectors.follow_up_for_user_or_404(user=request.user, pk=pk)
    owners = selectors.owner_choices(follow_up=follow_up)
    action = request.POST.get("action") if request.method == "POST" else None
    forms = {
        "resolve": ResolveForm(request.POST if action == "resolve" else None),
        "close": CloseForm(request.POST if action == "close" else None),
        "reassign": ReassignForm(
            request.POST if action == "reassign" else None,
            owners=owners,
            initial={"owner": str(follow_up.owner_id)},
        ),
        "refer": ReferForm(
            request.POST if action == "refer" else None,
            initial={"referred_to": follow_up.referred_to or None, "note": follow_up.referred_note},
        ),
    }
    if action is not None:
        require_perm(request, "volunteers.change_followup")
        if action not in FOLLOW_UP_ACTIONS:
            raise Http404
        form = forms.get(action)
        if form is None or form.is_valid():
            try:
                _act(request, follow_up, action, form)
            except ValidationError as exc:
                if form is None:
                    messages.error(request, " ".join(exc.messages))
                    return redirect("follow_up_detail", pk=follow_up.pk)
                add_service_errors(form, exc)
            else:
                return redirect("follow_up_detail", pk=follow_up.pk)
    return render(
        request,
        "volunteers/visits/follow_up_detail.html",
        {
            "follow_up": follow_up,
            "person": follow_up.case.person,
            "forms": forms,
            "open_action": action,
            "is_overdue": follow_up.is_overdue(timezone.localdate()),
            "can_act": request.user.has_perm("volunteers.change_followup") and follow_up.is_open,
        },
    )


def _act(request: HttpRequest, follow_up: FollowUp, action: str, form) -> None:
    user = request.user
    if action == "start":
        services.follow_up_start(acting_user=user, follow_up=follow_up)
        messages.success(request, _("已开始处理。"))
    elif action == "resolve":
        services.follow_up_resolve(
            acting_user=user, follow_up=follow_up, resolution=form.cleaned_data["resolution"]
        )
        messages.success(request, _("已办结该事项。"))
    elif action == "close":
        services.follow_up_close(
            acting_user=user, follow_up=follow_up, reason=form.cleaned_data["reason"]
        )
        messages.success(request, _("已关闭该事项。"))
    elif action == "reassign":
        owner = form.chosen_owner()
        services.follow_up_reassign(
            acting_user=user, follow_up=follow_up, owner=owner, note=form.cleaned_data["note"]
        )
        messages.success(request, _("已转交给%(owner)s。") % {"owner": owner})
    elif action == "refer":
        services.follow_up_refer(
            acting_user=user,
            follow_up=follow_up,
            referred_to=form.cleaned_data["referred_to"],
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("已记录转介。"))


@login_required
def visit_follow_up_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A follow-up added by hand to a visit."""
    require_perm(request, "volunteers.view_visit")
    visit = selectors.visit_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "volunteers.change_followup")
    form = FollowUpCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            follow_up = services.follow_up_create(
                acting_user=request.user,
                case=visit.case,
                visit=visit,
                need=data["need"],
                due_on=data["due_on"],
                urgency=data["urgency"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新增跟进事项。"))
            return redirect("follow_up_detail", pk=follow_up.pk)
    return render(
        request,
        "volunteers/visits/follow_up_form.html",
        {"form": form, "visit": visit, "person": visit.case.person},
    )
