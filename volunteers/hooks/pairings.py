"""Hub registrations for the pairings concern: navigation, audit verbs, the 一人一档
section "结对帮扶" and the home card "待结对对象"."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aidcases import archive

VERBS = {
    "pairing.propose": _("提出结对"),
    "pairing.confirm_volunteers": _("登记志愿者确认"),
    "pairing.confirm_person": _("登记对象确认（结对开始）"),
    "pairing.end": _("结束结对"),
    "pairing.cancel": _("撤销结对"),
    "pairing.set_volunteers": _("调整结对志愿者"),
}


def archive_context(person, user):
    """The person's pairings (every case of theirs) that the user may see; hidden when
    the person has no 特困 / 留守 case and no pairing."""
    from django.urls import reverse

    from aidcases.models import AidCase
    from volunteers.selectors import pairings as selectors

    if not user.has_perm("volunteers.view_pairing"):
        return None
    rows = selectors.pairings_of_person(person=person, user=user)
    open_cases = [
        c for c in person.cases.all()
        if c.status == AidCase.Status.OPEN and c.category in selectors.PAIRING_CASE_CATEGORIES
    ]  # fmt: skip
    if not rows and not open_cases:
        return None
    paired = {p.case_id for p in rows if p.state == p.State.ACTIVE}
    can_propose = user.has_perm("volunteers.add_pairing") and user.role != "approver"
    return {
        "pairings": rows,
        "propose": [
            (case, reverse("pairing_create") + f"?case={case.pk}")
            for case in open_cases
            if case.pk not in paired and can_propose
        ],
        "unpaired": [case for case in open_cases if case.pk not in paired],
    }


SECTION = archive.Section(
    key="volunteers.pairings",
    title="结对帮扶",
    template="volunteers/pairings/_archive_pairings.html",
    context=archive_context,
    order=40,
)


def unpaired_card(user):
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from aidcases.dashboard import cached_figure
    from volunteers.selectors import pairings as selectors

    if not user.has_perm("volunteers.view_pairing"):
        return None
    return {
        "title": _("待结对对象"),
        "value": cached_figure(user, "unpaired", lambda: selectors.unpaired_count(user=user)),
        "note": _("在册特困人员、留守儿童中尚无结对帮扶的"),
        "url": reverse("pairing_list"),
    }


_registered = False


def register() -> None:
    global _registered
    from aidcases.audit import register_verbs
    from aidcases.context_processors import VOLUNTEERING, register_nav
    from aidcases.dashboard import register_card

    register_nav(
        "pairing_list", _("结对帮扶"), "volunteers.view_pairing", order=51, group=VOLUNTEERING
    )
    register_verbs(VERBS)
    archive.register(SECTION)
    if not _registered:  # ready() may run twice in tests; one card
        register_card(unpaired_card)
        _registered = True
