"""URL-walk entries for visits, due visits, the coverage grid and follow-ups."""

from __future__ import annotations

from datetime import date

from aidcases.models import AidCase
from tests.factories import make_person
from tests.urlwalk import ObjectUrl, ParamUrl


def _visits(world):
    from volunteers.models import Visit

    return Visit.objects.count()


OBJECT_URLS = {
    "visit_detail": ObjectUrl(lambda w: {"pk": w.vvisits_visit_b.pk}),
    "visit_follow_up_create": ObjectUrl(lambda w: {"pk": w.vvisits_visit_b.pk}),
    "follow_up_detail": ObjectUrl(lambda w: {"pk": w.vvisits_follow_up_b.pk}),
}

PARAM_URLS = [
    ParamUrl(
        "visit_create",
        lambda w, pick: {
            "client_token": "6f1c3c7e-2b1d-4f5e-9a51-0c7d7c1e9a01",
            "case": pick(w.vvisits_case_b.pk),
            "team": pick(w.vvisits_team_b.pk),
            "date": "2026-01-05",
            "mode": "in_person",
            "home_safety_note": "门窗完好",
            "action": "save",
        },
        method="post",
        statuses=(200,),
        effect=_visits,
    ),
    ParamUrl("visit_create", lambda w, pick: {"case": pick(w.vvisits_case_b.pk)}, statuses=(200,)),
    ParamUrl(
        "visit_case_search",
        lambda w, pick: {"q": "", "case": pick(w.vvisits_case_b.pk)},
        method="post",
        statuses=(200,),
    ),
    ParamUrl(
        "visit_coverage",
        lambda w, pick: {"township": pick(w.township_b.pk)},
        statuses=(200,),
    ),
    ParamUrl(
        "visit_list",
        lambda w, pick: {"team": pick(w.vvisits_team_b.pk), "township": pick(w.township_b.pk)},
        statuses=(200,),
    ),
    ParamUrl(
        "follow_up_list",
        lambda w, pick: {"tab": "all", "township": pick(w.township_b.pk)},
        statuses=(200,),
    ),
]


def extend_world(world) -> None:
    from tests.volunteers.factories import make_pairing, make_team, make_volunteer
    from volunteers import services

    team = make_team(world.township_b, name="东冶乡走访服务队")
    volunteer = make_volunteer(world.village_b, name="周东冶", team=team)
    case = make_person(world.village_b, name="孙东冶", category=AidCase.Category.TEKUN).cases.get()
    make_pairing(case, team, [volunteer], started_on=date(2026, 1, 2))
    visit = services.visit_record(
        acting_user=world.officer_b,
        case=case,
        team=team,
        date=date(2026, 1, 3),
        visitors=[volunteer],
        cares={"health": ("东冶卫生院复查", True)},
    )
    world.vvisits_team_b = team
    world.vvisits_case_b = case
    world.vvisits_visit_b = visit
    world.vvisits_follow_up_b = visit.follow_ups.get()
