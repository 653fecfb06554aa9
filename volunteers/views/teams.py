"""Views: teams, volunteers, memberships, team activities (thin: scope, form, one service)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from aidcases import access, pii
from aidcases import selectors as hub_selectors
from aidcases.models import Area, User
from aidcases.pagination import paginate
from aidcases.viewutils import add_service_errors, querystring_without_page, require_perm
from volunteers import services
from volunteers.forms.teams import (
    ActivityForm,
    MembershipAddForm,
    MembershipEndForm,
    TeamFilterForm,
    TeamForm,
    VolunteerFilterForm,
    VolunteerForm,
)
from volunteers.models import Membership, Team, Volunteer
from volunteers.selectors import teams as selectors

PAGE_SIZE = 50
COVERED_CHOICES_MAX = 300  # villages listed for 服务区域 before the team has a township
MEMBER_CHOICES_MAX = 200  # volunteers listed on 添加队员 before a search
TEAM_CHOICES_MAX = 200  # teams listed on the volunteer form
TEAM_AREA_LEVELS = (Area.Level.COUNTY, Area.Level.TOWNSHIP, Area.Level.VILLAGE)
HOME_AREA_LEVELS = (Area.Level.COUNTY, Area.Level.TOWNSHIP, Area.Level.VILLAGE, Area.Level.HAMLET)


def _can_reveal(user: User) -> bool:
    return user.has_perm("aidcases.reveal_phone")


# --- teams -----------------------------------------------------------------------------------


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.view_team")
    townships = hub_selectors.townships_for(user=request.user)
    form = TeamFilterForm(request.GET or None, townships=townships)
    filters = form.cleaned_data if form.is_valid() else {}
    teams = selectors.team_list(
        user=request.user,
        q=filters.get("q", ""),
        township=filters.get("township"),
        kind=filters.get("kind", ""),
    )
    page = paginate(teams, request.GET.get("page"), per_page=PAGE_SIZE)
    return render(
        request,
        "volunteers/teams/team_list.html",
        {
            "form": form,
            "page": page,
            "qs": querystring_without_page(request),
            "quarter": selectors.Quarter.of(timezone.localdate()),
            "township_options": list(townships),
            "can_create": request.user.has_perm("volunteers.add_team")
            and request.user.role != User.Role.TEAM_LEADER,
        },
    )


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "volunteers.view_team")
    team = selectors.team_for_user_or_404(user=request.user, pk=pk)
    today = timezone.localdate()
    quarter = selectors.Quarter.of(today)
    activities = selectors.team_activities(team=team)
    members = selectors.team_members(team=team)
    return render(
        request,
        "volunteers/teams/team_detail.html",
        {
            "team": team,
            "areas_covered": list(team.areas_covered.order_by("path")),
            "members": members,
            "current_count": sum(1 for m in members if m.ended_on is None),
            "pairings": selectors.team_pairings(team=team),
            "activities": activities,
            "quarter": quarter,
            "quarter_activities": [a for a in activities if a.date >= quarter.start],
            "compliance": selectors.quarter_compliance(team=team, today=today),
            "can_edit": request.user.has_perm("volunteers.change_team"),
            "can_manage_members": request.user.has_perm("volunteers.add_membership"),
            "can_add_activity": request.user.has_perm("volunteers.add_activity"),
            "can_add_volunteer": request.user.has_perm("volunteers.add_volunteer"),
            "can_import": request.user.has_perm("volunteers.add_membership"),
        },
    )


def _team_form(request: HttpRequest, *, team: Team | None, initial: dict | None = None):
    user = request.user
    leader_locked = team is not None and user.role == User.Role.TEAM_LEADER
    areas = selectors.areas_in_scope(user=user, levels=TEAM_AREA_LEVELS)
    if leader_locked:
        areas = Area.objects.filter(pk=team.area_id)
    covered = selectors.areas_in_scope(user=user, levels=(Area.Level.VILLAGE, Area.Level.HAMLET))
    if team is not None and team.area.level != Area.Level.COUNTY:
        # the villages of the team's township, not a county's 3,000 (a 300 KB form)
        township = team.area if team.area.level == Area.Level.TOWNSHIP else team.area.parent
        covered = covered.filter(path__startswith=township.path)
    elif covered.count() > COVERED_CHOICES_MAX:
        covered = covered.none()  # chosen on the edit page, once the team has its township
    leaders = selectors.leader_candidates(user=user)
    if team is not None and team.leader_id:
        leaders = leaders | User.objects.filter(pk=team.leader_id)
    form = TeamForm(
        request.POST or None,
        areas=areas,
        covered=covered.select_related("parent"),
        leaders=leaders.select_related("area"),
        editing=team is not None,
        leader_locked=leader_locked,
        initial=initial,
    )
    if team is None and not covered.exists():
        form.fields["areas_covered"].help_text = _(
            "村(社区)较多：保存后，在服务队的“编辑”页按所属乡(镇)选择服务区域。"
        )
    return form


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.add_team")
    if request.user.role == User.Role.TEAM_LEADER:
        raise PermissionDenied
    initial = {}
    if request.user.area_id and request.user.area.level == Area.Level.TOWNSHIP:
        initial["area"] = request.user.area
    form = _team_form(request, team=None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            team = services.team_create(
                acting_user=request.user,
                name=data["name"],
                kind=data["kind"],
                area=data["area"],
                leader=data["leader"],
                areas_covered=list(data["areas_covered"]),
                issuing_organisation=data["issuing_organisation"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("已新建服务队“%(name)s”。") % {"name": team.name})
            return redirect(team)
    return render(request, "volunteers/teams/team_form.html", {"form": form, "creating": True})


@login_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "volunteers.change_team")
    initial = {
        "name": team.name,
        "kind": team.kind,
        "area": team.area,
        "leader": team.leader,
        "areas_covered": list(team.areas_covered.all()),
        "issuing_organisation": team.issuing_organisation,
        "is_active": team.is_active,
    }
    form = _team_form(request, team=team, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            changed = services.team_update(
                acting_user=request.user,
                team=team,
                name=data["name"],
                kind=data["kind"],
                area=data["area"],
                leader=data["leader"],
                areas_covered=list(data["areas_covered"]),
                issuing_organisation=data["issuing_organisation"],
                is_active=data["is_active"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("已保存服务队“%(name)s”。") % {"name": data["name"]})
            else:
                messages.info(request, _("没有修改。"))
            return redirect(team)
    return render(
        request,
        "volunteers/teams/team_form.html",
        {"form": form, "creating": False, "team": team},
    )


# --- memberships -----------------------------------------------------------------------------


@login_required
def team_member_add(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "volunteers.add_membership")
    current = Membership.objects.filter(team=team, ended_on__isnull=True).values("volunteer_id")
    candidates = (
        selectors.volunteers_for(user=request.user)
        .filter(is_active=True)
        .exclude(pk__in=current)
        .order_by("name_sort", "pk")
    )
    form = MembershipAddForm(request.POST or None, volunteers=candidates)
    valid = request.method == "POST" and form.is_valid()
    # The page lists a search's matches, else the volunteers of the team's township — not
    # every volunteer of a county (30,000 options, a 1.4 MB page); the posted choice was
    # checked against all of them above.
    q = request.GET.get("q", "").strip()[:40]
    if q:
        listed = selectors.volunteer_search(candidates, q)
    else:
        area = team.area
        township = area if area.level != Area.Level.VILLAGE else area.parent
        listed = candidates.filter(area__path__startswith=township.path)
    listed = list(listed[: MEMBER_CHOICES_MAX + 1])
    too_many = len(listed) > MEMBER_CHOICES_MAX
    if not valid:
        offered = {v.pk for v in listed[:MEMBER_CHOICES_MAX]}
        chosen = str(form["volunteer"].value() or "")
        if chosen.isdigit():  # a choice the form sends back keeps its option
            offered.add(int(chosen))
        form.offer(candidates.filter(pk__in=offered))
    if valid:
        data = form.cleaned_data
        try:
            services.membership_add(
                acting_user=request.user,
                team=team,
                volunteer=data["volunteer"],
                role=data["role"],
                started_on=data["started_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("%(name)s已加入本队。") % {"name": data["volunteer"].name})
            return redirect(team)
    return render(
        request,
        "volunteers/teams/member_add.html",
        {"form": form, "team": team, "q": q, "too_many": too_many, "found": len(listed)},
    )


@login_required
def team_member_end(request: HttpRequest, pk: int) -> HttpResponse:
    membership = access.get_for_user_or_404(
        Membership.objects.select_related("team", "team__area", "volunteer"), request.user, pk=pk
    )
    require_perm(request, "volunteers.change_membership")
    team = membership.team
    if membership.ended_on is not None:
        messages.info(request, _("该队员已退出本队。"))
        return redirect(team)
    form = MembershipEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_end(
                acting_user=request.user,
                membership=membership,
                ended_on=form.cleaned_data["ended_on"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("%(name)s已退出本队。") % {"name": membership.volunteer.name}
            )
            return redirect(team)
    return render(
        request,
        "volunteers/teams/member_end.html",
        {"form": form, "team": team, "membership": membership},
    )


# --- volunteers ------------------------------------------------------------------------------


@login_required
def volunteer_list(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.view_volunteer")
    townships = hub_selectors.townships_for(user=request.user)
    form = VolunteerFilterForm(request.GET or None, townships=townships)
    filters = form.cleaned_data if form.is_valid() else {}
    volunteers = selectors.volunteer_list(
        user=request.user,
        q=filters.get("q", ""),
        township=filters.get("township"),
        kind=filters.get("kind", ""),
    )
    page = paginate(volunteers, request.GET.get("page"), per_page=PAGE_SIZE)
    for volunteer in page.object_list:
        volunteer.masked_phone = pii.mask_phone(volunteer.phone) if volunteer.phone else ""
    return render(
        request,
        "volunteers/teams/volunteer_list.html",
        {
            "form": form,
            "page": page,
            "qs": querystring_without_page(request),
            "township_options": list(townships),
            "can_create": request.user.has_perm("volunteers.add_volunteer"),
        },
    )


@login_required
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "volunteers.view_volunteer")
    volunteer = selectors.volunteer_for_user_or_404(user=request.user, pk=pk)
    hours, activity_count = selectors.volunteer_service_hours(
        user=request.user, volunteer=volunteer
    )
    today = timezone.localdate()
    return render(
        request,
        "volunteers/teams/volunteer_detail.html",
        {
            "volunteer": volunteer,
            "age": volunteer.age_on(today),
            "masked_phone": pii.mask_phone(volunteer.phone) if volunteer.phone else "",
            "can_reveal_phone": _can_reveal(request.user),
            "memberships": selectors.volunteer_memberships(user=request.user, volunteer=volunteer),
            "activities": selectors.volunteer_activities(user=request.user, volunteer=volunteer),
            "hours": hours,
            "activity_count": activity_count,
            "can_edit": request.user.has_perm("volunteers.change_volunteer"),
        },
    )


@login_required
@require_POST
def volunteer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = selectors.volunteer_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "aidcases.reveal_phone")
    value = services.volunteer_record_phone_reveal(acting_user=request.user, volunteer=volunteer)
    response = HttpResponse(
        format_html(
            '<span class="font-monospace revealed" data-testid="revealed-phone">{}</span>',
            value or "—",
        )
    )
    response["Cache-Control"] = "no-store"
    return response


def _volunteer_data(data: dict, *, user: User | None = None) -> services.VolunteerData:
    return services.VolunteerData(
        name=data["name"],
        kind=data["kind"],
        area=data["area"],
        gender=data["gender"],
        birth_date=data["birth_date"],
        phone=data["phone"],
        university=data["university"],
        major=data["major"],
        skills=data["skills"],
        id_number=data["id_number"],
        guardian_name=data["guardian_name"],
        guardian_consent_on=data["guardian_consent_on"],
        guardian_consent_how=data["guardian_consent_how"],
        notes=data["notes"],
        user=user,
    )


@login_required
def volunteer_create(request: HttpRequest) -> HttpResponse:
    require_perm(request, "volunteers.add_volunteer")
    user = request.user
    teams = selectors.teams_for(user=user).filter(is_active=True).order_by("name")
    initial: dict = {}
    chosen = request.GET.get("team", "")
    if chosen:
        # A team named in the link must be one of the user's: otherwise as if missing.
        if not chosen.isdigit():
            raise Http404
        team = selectors.team_for_user_or_404(user=user, pk=int(chosen))
        initial.update({"team": team, "area": team.area})
    elif user.area_id:
        initial["area"] = user.area
    areas = selectors.areas_in_scope(user=user, levels=HOME_AREA_LEVELS)
    form = VolunteerForm(
        request.POST or None,
        areas=areas,
        teams=teams,
        team_required=user.role == User.Role.TEAM_LEADER,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                volunteer = services.volunteer_register(
                    acting_user=user, data=_volunteer_data(data), team=data.get("team")
                )
                if data.get("team"):
                    services.membership_add(
                        acting_user=user,
                        team=data["team"],
                        volunteer=volunteer,
                        role=data["role"],
                        started_on=data["started_on"] or timezone.localdate(),
                    )
        except ValidationError as exc:
            add_service_errors(form, exc, {"volunteer": "team"})
        else:
            messages.success(request, _("已登记志愿者“%(name)s”。") % {"name": volunteer.name})
            return redirect(data["team"] if data.get("team") else volunteer)
    return render(
        request,
        "volunteers/teams/volunteer_form.html",
        {"form": form, "creating": True, "teams_not_listed": _offer_few_teams(form, teams)},
    )


def _offer_few_teams(form: VolunteerForm, teams) -> bool:
    """A county's 3,000 teams are not listed on the form (a 200 KB page): only the team the
    link or the form names; joining another is done from that team's page. Whether the
    list was cut."""
    if teams.count() <= TEAM_CHOICES_MAX:
        return False
    chosen = str(form["team"].value() or "")
    field = form.fields["team"]
    field.queryset = teams.filter(pk=int(chosen)) if chosen.isdigit() else teams.none()
    return True


@login_required
def volunteer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = selectors.volunteer_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "volunteers.change_volunteer")
    user = request.user
    areas = selectors.areas_in_scope(user=user, levels=HOME_AREA_LEVELS) | Area.objects.filter(
        pk=volunteer.area_id
    )
    initial = {
        name: getattr(volunteer, name)
        for name in (
            "name",
            "gender",
            "birth_date",
            "phone",
            "kind",
            "university",
            "major",
            "area",
            "skills",
            "guardian_name",
            "guardian_consent_on",
            "guardian_consent_how",
            "notes",
        )
    }
    if not _can_reveal(user):
        initial["phone"] = ""
    form = VolunteerForm(
        request.POST or None,
        areas=areas,
        initial=initial,
        has_id_number=bool(volunteer.id_number_hash),
    )
    if request.method == "GET" and volunteer.phone and _can_reveal(user):
        # The form shows the phone in clear: a reveal, audited like the 显示 button.
        services.volunteer_record_phone_reveal(acting_user=user, volunteer=volunteer)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not _can_reveal(user) and not data["phone"]:
            data["phone"] = volunteer.phone  # never shown, so left as it is
        try:
            changed = services.volunteer_update(
                acting_user=user,
                volunteer=volunteer,
                data=_volunteer_data(data, user=volunteer.user),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if changed:
                messages.success(request, _("已保存“%(name)s”的信息。") % {"name": data["name"]})
            else:
                messages.info(request, _("没有修改。"))
            return redirect(volunteer)
    return render(
        request,
        "volunteers/teams/volunteer_form.html",
        {"form": form, "creating": False, "volunteer": volunteer},
    )


# --- activities ------------------------------------------------------------------------------


@login_required
def activity_create(request: HttpRequest, pk: int) -> HttpResponse:
    team = selectors.team_for_user_or_404(user=request.user, pk=pk)
    require_perm(request, "volunteers.add_activity")
    members = (
        Volunteer.objects.filter(memberships__team=team).distinct().order_by("name_sort", "pk")
    )
    form = ActivityForm(request.POST or None, request.FILES or None, members=members)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            activity = services.activity_record(
                acting_user=request.user,
                team=team,
                date=data["date"],
                kind=data["kind"],
                content=data["content"],
                participants=list(data["participants"]),
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                place=data["place"],
                people_served=data["people_served"],
                backfill_reason=data["backfill_reason"],
                photos=data["photos"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc, {"file": "photos"})
        else:
            messages.success(request, _("已记录本次活动。"))
            return redirect(activity)
    return render(
        request,
        "volunteers/teams/activity_form.html",
        {"form": form, "team": team},
    )


@login_required
def activity_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_perm(request, "volunteers.view_activity")
    activity = selectors.activity_for_user_or_404(user=request.user, pk=pk)
    return render(
        request,
        "volunteers/teams/activity_detail.html",
        {
            "activity": activity,
            "team": activity.team,
            "participants": sorted(activity.participants.all(), key=lambda v: v.name_sort),
            "photos": list(activity.photos.all()),
        },
    )


@login_required
def activity_photo(request: HttpRequest, pk: int) -> FileResponse:
    require_perm(request, "volunteers.view_activity")
    photo = selectors.activity_photo_for_user_or_404(user=request.user, pk=pk)
    try:
        handle = photo.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404 from exc
    inline = request.GET.get("inline") == "1"
    services.activity_photo_record_download(acting_user=request.user, photo=photo, inline=inline)
    stem = photo.original_name.rsplit(".", 1)[0] or "photo"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=f"{stem[:150]}{photo.extension}",
        content_type=photo.content_type,
    )
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
