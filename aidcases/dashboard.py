"""Home-page cards. Later apps register theirs in AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aidcases.models import User

Card = dict[str, Any]  # {"title", "value", "note", "url"}
_CARD_PROVIDERS: list[Callable[[User], Card | None]] = []


def register_card(provider: Callable[[User], Card | None]) -> Callable[[User], Card | None]:
    _CARD_PROVIDERS.append(provider)
    return provider


def cards_for(user: User) -> list[Card]:
    return [card for provider in _CARD_PROVIDERS if (card := provider(user)) is not None]


def cached_figure(user: User, name: str, compute: Callable[[], Any]) -> Any:
    """A home-page figure over the user's scope, at most a minute old: counts over a whole
    county are dear (100–3,000 ms at province scale), and everyone in one scope shares them
    (a team leader's scope is their own)."""
    from django.core.cache import cache

    from aidcases import access

    if access.sees_everything(user):
        scope = "all"
    elif user.role == User.Role.TEAM_LEADER:
        scope = f"leader:{user.pk}"
    else:
        scope = user.area.path if user.area_id else "none"
    return cache.get_or_set(f"dashboard:{name}:{scope}", compute, timeout=60)


@register_card
def _areas_card(user: User) -> Card:
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from aidcases import access
    from aidcases.models import Area

    villages = access.areas_for(user).filter(level=Area.Level.VILLAGE).count()
    return {
        "title": _("管辖行政村(社区)"),
        "value": villages,
        "note": _("全县") if access.sees_everything(user) else str(user.area),
        "url": reverse("area_list"),
    }


@register_card
def _people_card(user: User) -> Card | None:
    from django.db.models import Count, Q
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from aidcases import access
    from aidcases.models import AidCase

    if not user.has_perm("aidcases.view_person"):
        return None

    def counts() -> dict:
        return access.scope(
            AidCase.objects.filter(status=AidCase.Status.OPEN, person__is_active=True),
            user,
            area_field="person__area",
        ).aggregate(
            people=Count("person", distinct=True),
            **{c: Count("pk", filter=Q(category=c)) for c in AidCase.Category.values},
        )

    # A whole province's cases take ~200 ms to count (see `cached_figure`).
    open_cases = cached_figure(user, "people", counts)
    labels = dict(AidCase.Category.choices)
    note = "，".join(f"{labels[c]} {open_cases[c]}" for c in AidCase.Category.values)
    return {
        "title": _("在册帮扶对象"),
        "value": open_cases["people"],
        "note": note,
        "url": reverse("person_list"),
    }
