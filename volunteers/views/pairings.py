"""Views: pairings — the worklists, the proposal page and the pairing page with its
steps. Thin: fetch through the selectors (out of scope = 404), validate with a form,
call one service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from aidcases import selectors as hub_selectors
from aidcases.audit import verb_label
from aidcases.pagination import paginate
from aidcases.viewutils import add_service_errors, querystring_without_page, require_perm
from volunteers import services
from volunteers.forms.pairings import (
    WORKLIST_TABS,
    CancelForm,
    ConfirmPersonForm,
    ConfirmVolunteersForm,
    EndForm,
    PairingFilterForm,
    PairingProposeForm,
    SetVolunteersForm,
)
from volunteers.models import Pairing
from volunteers.selectors import pairings as selectors

PAGE_SIZE = 50
PICK_LIMIT = 20

STEP_FORMS = {
    "confirm_volunteers": ConfirmVolunteersForm,
    "confirm_person": ConfirmPersonForm,
    "end": EndForm,
    "cancel": CancelForm,
    "set_volunteers": SetVolunteersForm,
}
STEP_TITLES = {
    "confirm_volunteers": gettext_lazy("登记志愿者确认"),
    "confirm_person": gettext_lazy("登记对象确认"),
    "end": gettext_lazy("结束结对"),
    "cancel": gettext_lazy("撤销结对"),
    "set_volunteers": gettext_lazy("调整志愿者"),
}


def _pick(qs, raw: str | None):
    """The object named by an id from the query string or body, within `qs` (which
    is already scoped): 404 when missing or out of scope alike."""
    if not raw:
        return None
    try:
        return qs.get(pk=int(raw))
    except (ValueError, qs.model.DoesNotExist) as exc:
        raise Http404 from exc


# --- worklists ------------------------------------------------------------------------


@login_required
def pairing_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.view_pairing")
    townships = hub_selectors.townships_for(user=request.user)
    teams = selectors.pairing_teams_for(user=request.user)
    form = PairingFilterForm(request.GET or None, townships=townships, teams=teams)
    filters = form.cleaned_data if form.is_valid() else {}
    tab = filters.get("tab") or "unpaired"
    township = filters.get("township")
    if tab == "unpaired":
        rows = selectors.unpaired_cases(
            user=request.user,
            township=township,
            category=filters.get("category", ""),
            q=filters.get("q", ""),
        )
    elif tab == "unconfirmed":
        rows = selectors.pairings_unconfirmed(user=request.user, township=township)
    else:
        rows = selectors.pairing_list(
            user=request.user,
            state=filters.get("state", ""),
            team=filters.get("team"),
            township=township,
        )
    page = paginate(rows, request.GET.get("page"), per_page=PAGE_SIZE)
    return render(
        request,
        "volunteers/pairings/pairing_list.html",
        {
            "form": form,
            "tab": tab,
            "tabs": WORKLIST_TABS,
            "page": page,
            "qs": querystring_without_page(request),
            "township_options": list(townships),
            "team_options": list(teams) if tab == "all" else [],
            "state_choices": Pairing.State.choices,
            "confirm_days": selectors.pairing_confirm_overdue_since(),
            "today": timezone.localdate(),
            "can_propose": request.user.has_perm("volunteers.add_pairing"),
        },
    )


# --- proposal -------------------------------------------------------------------------


def _teams_near(teams, case):
    """Teams whose area holds the person's village (their township's teams)."""
    path = case.person.area.path
    parts = path.strip("/").split("/")
    prefixes = ["/" + "/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)]
    return teams.filter(area__path__in=prefixes)


@login_required
@require_http_methods(["GET", "POST"])
def pairing_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.add_pairing")
    params = request.POST if request.method == "POST" else request.GET
    cases = selectors.pairable_cases_for(user=request.user)
    teams = selectors.pairing_teams_for(user=request.user)
    case = _pick(cases, params.get("case"))
    team = _pick(teams, params.get("team"))
    members = selectors.team_current_members(team=team) if team else teams.none()
    form = PairingProposeForm(
        request.POST if request.method == "POST" else None,
        cases=cases,
        teams=teams,
        members=members,
        initial={"case": case, "team": team},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            pairing = services.pairing_propose(
                acting_user=request.user,
                case=data["case"],
                team=data["team"],
                volunteers=list(data["volunteers"]),
                lead=data["lead"],
                proposed_on=data["proposed_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("已提出%(name)s与%(team)s的结对，请登记志愿者确认。")
                % {"name": pairing.case.person.name, "team": pairing.team.name},
            )
            return redirect("pairing_detail", pk=pairing.pk)

    q = (request.GET.get("q") or "").strip()
    case_choices = []
    if case is None:
        found = selectors.unpaired_cases(user=request.user, q=q) if q else cases.none()
        case_choices = list(found[:PICK_LIMIT])
    tq = (request.GET.get("tq") or "").strip()
    team_choices = []
    if team is None:
        shown = teams.filter(name__contains=tq) if tq else teams
        if case is not None and not tq:
            shown = _teams_near(shown, case)
        team_choices = list(shown[:PICK_LIMIT])
    selected = {str(v) for v in (form["volunteers"].value() or [])}
    lead = str(form["lead"].value() or "")
    return render(
        request,
        "volunteers/pairings/pairing_form.html",
        {
            "form": form,
            "case": case,
            "team": team,
            "q": q,
            "tq": tq,
            "case_choices": case_choices,
            "team_choices": team_choices,
            "members": list(members) if team else [],
            "selected": selected,
            "lead": lead,
            "pick_limit": PICK_LIMIT,
        },
    )


# --- the pairing page and its steps ---------------------------------------------------


def _steps(pairing: Pairing) -> list[dict]:
    """The 提出 → 志愿者确认 → 对象确认 → 结对中 indicator."""
    return [
        {"label": _("提出"), "on": pairing.proposed_on},
        {"label": _("志愿者确认"), "on": pairing.volunteers_confirmed_on},
        {"label": _("对象确认"), "on": pairing.person_confirmed_on},
        {"label": _("结对中"), "on": pairing.started_on},
    ]


def _step_form(step: str, pairing: Pairing, data=None):
    if step == "set_volunteers":
        members = selectors.team_current_members(team=pairing.team)
        current = list(pairing.members.all())
        initial = {
            "volunteers": [m.volunteer_id for m in current],
            "lead": next((m.volunteer_id for m in current if m.is_lead), None),
        }
        return SetVolunteersForm(data, members=members, initial=initial)
    return STEP_FORMS[step](data)


def _detail(request: HttpRequest, pairing: Pairing, *, open_step: str = "", bound=None):
    actions = services.pairing_actions(user=request.user, pairing=pairing)
    forms = {step: _step_form(step, pairing) for step in actions}
    if bound is not None:
        forms[open_step] = bound
    history = [
        (event, verb_label(event.verb)) for event in selectors.pairing_history(pairing=pairing)
    ]
    step_forms = [(step, STEP_TITLES[step], forms[step]) for step in actions]
    set_form = forms.get("set_volunteers")
    return render(
        request,
        "volunteers/pairings/pairing_detail.html",
        {
            "pairing": pairing,
            "person": pairing.case.person,
            "steps": _steps(pairing),
            "step_forms": [s for s in step_forms if s[0] != "set_volunteers"],
            "set_form": set_form,
            "set_members": list(set_form.fields["volunteers"].queryset) if set_form else [],
            "set_selected": {str(v) for v in (set_form["volunteers"].value() or [])}
            if set_form
            else set(),
            "set_lead": str(set_form["lead"].value() or "") if set_form else "",
            "open_step": open_step,
            "history": history,
            "members": list(pairing.members.all()),
            "leader_only": request.user.role == "team_leader",
        },
        status=200,
    )


@login_required
def pairing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "volunteers.view_pairing")
    pairing = selectors.pairing_for_user_or_404(user=request.user, pk=pk)
    return _detail(request, pairing)


def _run_step(request, pairing: Pairing, step: str, data: dict):
    user = request.user
    if step == "confirm_volunteers":
        services.pairing_confirm_volunteers(
            acting_user=user, pairing=pairing, confirmed_on=data["confirmed_on"]
        )
        return _("已登记志愿者确认，下一步请登记对象（本人或监护人）确认。")
    if step == "confirm_person":
        services.pairing_confirm_person(
            acting_user=user,
            pairing=pairing,
            confirmed_on=data["confirmed_on"],
            who=data["who"],
            name=data["name"],
            how=data["how_text"],
            started_on=data.get("started_on"),
        )
        return _("双向确定完成，结对已开始。")
    if step == "end":
        services.pairing_end(
            acting_user=user, pairing=pairing, ended_on=data["ended_on"], reason=data["reason"]
        )
        return _("结对已结束。")
    if step == "cancel":
        services.pairing_cancel(acting_user=user, pairing=pairing, reason=data["reason"])
        return _("结对已撤销。")
    changed = services.pairing_set_volunteers(
        acting_user=user,
        pairing=pairing,
        volunteers=list(data["volunteers"]),
        lead=data["lead"],
        confirmed_on=data.get("confirmed_on"),
    )
    return _("已保存结对志愿者。") if changed else _("没有修改。")


@login_required
@require_http_methods(["GET", "POST"])
def pairing_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    require_perm(request, "volunteers.view_pairing")
    pairing = selectors.pairing_for_user_or_404(user=request.user, pk=pk)
    if step not in STEP_FORMS:
        raise Http404
    require_perm(request, "volunteers.change_pairing")
    if step not in services.pairing_actions(user=request.user, pairing=pairing):
        if step not in services.pairing_actions(
            user=request.user, pairing=_as_if_allowed_state(pairing, step)
        ):
            # The role may never take this step (a team leader and the person's side).
            raise PermissionDenied
        # The state has moved on (another officer, another tab): back to the page.
        messages.warning(
            request,
            _("这一步现在不能办理：结对当前为“%(state)s”。")
            % {"state": pairing.get_state_display()},
        )
        return redirect("pairing_detail", pk=pairing.pk)
    if request.method == "GET":
        return _detail(request, pairing, open_step=step)
    form = _step_form(step, pairing, request.POST)
    if form.is_valid():
        try:
            message = _run_step(request, pairing, step, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, message)
            return redirect("pairing_detail", pk=pairing.pk)
    return _detail(request, pairing, open_step=step, bound=form)


def _as_if_allowed_state(pairing: Pairing, step: str) -> Pairing:
    """A copy of the pairing in a state the step starts from: whether the role could
    ever take this step, whatever the state now."""
    return Pairing(pk=pairing.pk, state=services.PAIRING_TRANSITIONS[step][0][0])
