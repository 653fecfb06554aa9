"""Hub registrations for the reminders (volunteers/reminders.py): the kinds the hub's
`send_reminders` command and beat task run by name."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    from aidcases import reminders as hub
    from volunteers import reminders

    hub.register(
        "team-activity",
        label=_("服务队季度活动提醒"),
        plan=reminders.plan_team_activity,
        takes_quarter=True,
        takes_stage=True,
    )
    hub.register("follow-ups", label=_("逾期跟进事项提醒"), plan=reminders.plan_follow_ups)
    hub.register("left-behind", label=_("留守儿童走访提醒"), plan=reminders.plan_left_behind)
    hub.register(
        "tekun", label=_("特困人员走访提醒"), plan=reminders.plan_tekun, takes_quarter=True
    )
