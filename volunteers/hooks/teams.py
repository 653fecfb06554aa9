"""Hub registrations for the teams concern: navigation, audit verb labels, the home-page card
of teams without an activity this quarter, and the team-roster import kind."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def _quiet_teams_card(user):
    from django.urls import reverse
    from django.utils import timezone

    from aidcases import access
    from volunteers.selectors import teams as selectors

    if not user.has_perm("volunteers.view_team"):
        return None
    count = selectors.teams_without_activity_count(user=user)
    quarter = selectors.Quarter.of(timezone.localdate())
    return {
        "title": str(_("本季度未开展活动的服务队")),
        "value": count,
        "note": f"{quarter.label} · 每季度至少开展一次"
        + ("" if access.sees_everything(user) else f" · {user.area or ''}"),
        "url": reverse("team_list"),
    }


def register() -> None:
    import volunteers.team_roster  # noqa: F401  (registers the "team_roster" import kind)
    from aidcases.audit import register_verbs
    from aidcases.context_processors import VOLUNTEERING, register_nav
    from aidcases.dashboard import register_card

    register_nav("team_list", _("服务队"), "volunteers.view_team", order=50, group=VOLUNTEERING)
    register_nav(
        "volunteer_list", _("志愿者"), "volunteers.view_volunteer", order=52, group=VOLUNTEERING
    )
    register_verbs(
        {
            "team.create": _("新建服务队"),
            "team.update": _("修改服务队"),
            "volunteer.create": _("登记志愿者"),
            "volunteer.update": _("修改志愿者"),
            "volunteer.reveal": _("查看志愿者电话"),
            "membership.add": _("队员入队"),
            "membership.end": _("队员退出"),
            "membership.role": _("调整队内职务"),
            "activity.create": _("记录团队活动"),
            "activity.photo_download": _("查看活动照片"),
            "team_roster.check_download": _("下载服务队名册检查结果"),
        }
    )
    register_card(_quiet_teams_card)
