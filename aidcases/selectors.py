"""Reads of the hub app, always scoped through access.py."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from aidcases import access
from aidcases.models import AidCase, Area, Job, User


def area_children(*, user: User, area: Area) -> QuerySet[Area]:
    return (
        access.areas_for(user)
        .filter(parent=area)
        .annotate(child_count=Count("children"))
        .order_by("code")
    )


def townships_for(*, user: User) -> QuerySet[Area]:
    """The townships (乡镇) a user may work in: their own for a township officer."""
    return access.areas_for(user).filter(level=Area.Level.TOWNSHIP).order_by("code")


def area_roots(*, user: User) -> QuerySet[Area]:
    """The top of what this user sees: the county for county roles, their own
    area for township roles."""
    qs = access.areas_for(user).annotate(child_count=Count("children")).order_by("code")
    if access.sees_everything(user):
        return qs.filter(parent__isnull=True)
    return qs.filter(pk=user.area_id)


def jobs_recent(*, user: User, limit: int = 5) -> list[Job]:
    return list(access.jobs_for(user).order_by("-created_at")[:limit])


# --- people -----------------------------------------------------------------


def people_for(*, user: User) -> QuerySet:
    """Active people in the user's scope, with what list pages show."""
    from aidcases.models import Person

    return access.scope(
        Person.objects.filter(is_active=True).select_related("area", "area__parent"), user
    )


def person_for_user_or_404(*, user: User, pk: int):
    from aidcases.models import Person

    qs = access.scope(
        Person.objects.select_related("area", "area__parent", "photo", "merged_into", "created_by"),
        user,
    )
    return access.get_for_user_or_404(qs, user, pk=pk)


def case_for_user_or_404(*, user: User, pk: int, category: str | None = None) -> AidCase:
    """The case with its person and area when it lies in the user's scope, else 404.

    With `category`, a case of another category is a 404 too: a page made for
    one category's profile is not reached through another category's case id.
    """
    qs = access.scope(
        AidCase.objects.select_related("person", "person__area", "person__area__parent"),
        user,
        area_field="person__area",
    )
    if category is not None:
        qs = qs.filter(category=category)
    return access.get_for_user_or_404(qs, user, pk=pk)


def people_search(queryset: QuerySet, query: str, *, id_tails: bool = True) -> QuerySet:
    """Name, full pinyin or initials, ID tail, phone tail — or a full ID number.

    Tails are matched through their keyed-hash tokens (search.query_tokens);
    `id_tails=False` for a user who may not see ID numbers: their 4-digit query
    still finds phone tails and names, never "whose ID ends so"."""
    from aidcases import pii
    from aidcases.search import is_whole_id, normalize_query, query_tokens

    q = normalize_query(query)
    if not q:
        return queryset
    if is_whole_id(q):
        # A whole ID number: exact lookup through the keyed hash.
        return queryset.filter(id_number_hash=pii.id_hash(pii.normalize_id_number(query)))
    tokens = query_tokens(q, id_tails=id_tails)
    if len(tokens) == 1:
        return queryset.filter(search_tokens__contains=tokens)
    return queryset.filter(search_tokens__overlap=tokens)


def id_search_kind(query: str, *, id_tails: bool = True) -> str:
    """ "whole" or "tail" when this query searches by ID number (a logged view),
    else ""."""
    from aidcases.search import is_id_tail, is_whole_id, normalize_query

    q = normalize_query(query)
    if is_whole_id(q):
        return "whole"
    if id_tails and is_id_tail(q):
        return "tail"
    return ""


def history_event_models() -> list:
    """Every pghistory event model in the project (later apps add theirs)."""
    from aidcases.history import event_models

    return event_models()
