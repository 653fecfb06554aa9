"""URL-walk entries for the volunteers app's pairings (worklists, proposal, the pairing
page and its steps). Township B's pairing is with B's team, whose leader is nobody in A."""

from __future__ import annotations

from aidcases.models import AidCase
from tests.factories import make_person
from tests.urlwalk import ObjectUrl, ParamUrl
from tests.volunteers.factories import make_pairing, make_team, make_volunteer


def _b(w) -> dict:
    return {"pk": w.vpair_pairing_b.pk}


def _pairings(w) -> tuple:
    from volunteers.models import Pairing, PairingVolunteer

    return (
        Pairing.objects.count(),
        tuple(Pairing.objects.order_by("pk").values_list("state", flat=True)),
        PairingVolunteer.objects.count(),
    )


# The steps are POST forms; GET shows the pairing page with the step open. The pairing of
# B's is proposed: the walk's GETs change nothing. Officer B may open every step's page
# except those the state does not allow yet (redirected to the pairing page).
OBJECT_URLS = {
    "pairing_detail": ObjectUrl(_b),
    "pairing_confirm_volunteers": ObjectUrl(_b),
    "pairing_confirm_person": ObjectUrl(_b, owner_status=302),
    "pairing_end": ObjectUrl(_b, owner_status=302),
    "pairing_cancel": ObjectUrl(_b),
    "pairing_set_volunteers": ObjectUrl(_b),
}

PARAM_URLS = [
    ParamUrl("pairing_create", lambda w, b: {"case": b(w.vpair_case_b.pk)}, effect=_pairings),
    ParamUrl("pairing_create", lambda w, b: {"team": b(w.vpair_team_b.pk)}, effect=_pairings),
    ParamUrl(
        "pairing_create",
        lambda w, b: {
            "case": b(w.vpair_case_b.pk),
            "team": b(w.vpair_team_b.pk),
            "volunteers": [w.vpair_volunteer_b.pk],
            "lead": w.vpair_volunteer_b.pk,
            "proposed_on": "2026-01-05",
        },
        method="post",
        effect=_pairings,
    ),
    # the worklists' filters: B's township or team is an invalid filter, no row of B's
    ParamUrl("pairing_list", lambda w, b: {"township": b(w.township_b.pk)}, statuses=(200,)),
    ParamUrl(
        "pairing_list", lambda w, b: {"tab": "all", "team": b(w.vpair_team_b.pk)}, statuses=(200,)
    ),
]


def extend_world(world) -> None:
    world.vpair_team_b = make_team(world.township_b, name="东冶乡关爱服务队")
    world.vpair_volunteer_b = make_volunteer(
        world.village_b, name="孙东冶", team=world.vpair_team_b
    )
    person = make_person(world.village_b, name="周东冶", category=AidCase.Category.TEKUN)
    world.vpair_case_b = person.cases.get()
    other = make_person(world.village_b, name="冯东冶", category=AidCase.Category.LEFT_BEHIND)
    world.vpair_pairing_b = make_pairing(
        other.cases.get(),
        world.vpair_team_b,
        [world.vpair_volunteer_b],
        state="proposed",
    )
