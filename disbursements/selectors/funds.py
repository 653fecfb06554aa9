"""Reads of the money-in screens: sources, funds and their ledger, entries, goods,
programmes. County-level (the `money_readers` scope in apps.py); each query's count
does not grow with the rows it shows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from aidcases import access
from aidcases.models import Person, User
from disbursements.models import (
    AidProgramme,
    Fund,
    FundEntry,
    FundingSource,
    FundMovement,
    GoodsDistribution,
    GoodsDonation,
)

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=14, decimal_places=2)


def _scoped(model, user: User) -> QuerySet:
    return model.objects.filter(access.scope_q(model, user))


# --- sources ---------------------------------------------------------------------


def source_list(*, user: User, q: str = "", kind: str = "") -> QuerySet[FundingSource]:
    qs = _scoped(FundingSource, user).annotate(
        entry_count=Count("entries", filter=Q(entries__cancels__isnull=True), distinct=True)
    )
    if q:
        qs = qs.filter(name__icontains=q)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("kind", "name", "pk")


def source_for_user_or_404(*, user: User, pk: int) -> FundingSource:
    return access.get_for_user_or_404(FundingSource.objects.all(), user, pk=pk)


def active_sources(*, user: User) -> QuerySet[FundingSource]:
    return _scoped(FundingSource, user).filter(is_active=True).order_by("kind", "name")


# --- funds -----------------------------------------------------------------------


def fund_list(*, user: User, include_inactive: bool = False) -> QuerySet[Fund]:
    qs = _scoped(Fund, user).select_related("restricted_programme", "restricted_person")
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("-is_active", "name", "pk")


def fund_totals(*, user: User) -> dict:
    """Cash of the active funds, and goods (estimated value) beside it, never added in."""
    cash = (
        _scoped(Fund, user)
        .filter(is_active=True)
        .aggregate(
            income=Coalesce(Sum("income"), ZERO),
            committed=Coalesce(Sum("committed"), ZERO),
            paid=Coalesce(Sum("paid"), ZERO),
        )
    )
    cash["balance"] = cash["income"] - cash["committed"] - cash["paid"]
    cash["goods_value"] = goods_value(user=user)
    return cash


def fund_for_user_or_404(*, user: User, pk: int) -> Fund:
    return access.get_for_user_or_404(
        Fund.objects.select_related("restricted_programme", "restricted_person"), user, pk=pk
    )


def active_funds(*, user: User) -> QuerySet[Fund]:
    return _scoped(Fund, user).filter(is_active=True).order_by("name")


def fund_ledger(*, user: User, fund: Fund) -> QuerySet[FundMovement]:
    """The fund's movements, newest first (the `movement_fund_newest` index)."""
    return (
        _scoped(FundMovement, user)
        .filter(fund=fund)
        .select_related("entry", "batch", "line", "by")
        .order_by("-at", "-id")
    )


def money_in_this_year(*, user: User, today: date | None = None) -> Decimal:
    """Posted income this calendar year, net of cancellations (a cancelled entry is no
    longer 'posted', and its cancelling entry points at it)."""
    year = (today or timezone.localdate()).year
    return (
        _scoped(FundEntry, user)
        .filter(state=FundEntry.State.POSTED, cancels__isnull=True, received_on__year=year)
        .aggregate(total=Coalesce(Sum("amount"), ZERO))["total"]
    )


# --- entries ---------------------------------------------------------------------


def entry_list(*, user: User, fund: Fund | None = None, state: str = "") -> QuerySet[FundEntry]:
    qs = _scoped(FundEntry, user).select_related("source", "fund", "created_by", "cancels")
    if fund is not None:
        qs = qs.filter(fund=fund)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-received_on", "-id")


def entry_for_user_or_404(*, user: User, pk: int) -> FundEntry:
    return access.get_for_user_or_404(
        FundEntry.objects.select_related(
            "source", "fund", "created_by", "posted_by", "cancels", "cancelled_by"
        ),
        user,
        pk=pk,
    )


# --- goods -----------------------------------------------------------------------


def _value_expr():
    return ExpressionWrapper(F("quantity") * F("unit_value"), output_field=_MONEY)


def goods_list(*, user: User) -> QuerySet[GoodsDonation]:
    return (
        _scoped(GoodsDonation, user)
        .select_related("source")
        .annotate(
            given=Coalesce(Sum("distributions__quantity"), Value(ZERO), output_field=_MONEY),
        )
        .order_by("-received_on", "-id")
    )


def goods_value(*, user: User) -> Decimal:
    return _scoped(GoodsDonation, user).aggregate(
        total=Coalesce(Sum(_value_expr()), Value(ZERO), output_field=_MONEY)
    )["total"]


def goods_for_user_or_404(*, user: User, pk: int) -> GoodsDonation:
    return access.get_for_user_or_404(
        GoodsDonation.objects.select_related("source", "created_by"), user, pk=pk
    )


def goods_distributions(*, user: User, donation: GoodsDonation) -> QuerySet[GoodsDistribution]:
    """Who received the donation. Distributions to people outside the reader's area
    are left out (county readers see all)."""
    people = access.scope(Person.objects.all(), user)
    return (
        donation.distributions.filter(Q(person__isnull=True) | Q(person__in=people))
        .select_related("person", "person__area", "created_by")
        .order_by("-given_on", "-id")
    )


def people_to_pick(*, user: User, query: str, limit: int = 20) -> list[Person]:
    """People in the user's scope found by name or pinyin (never by ID digits: that is a
    logged search of the people list), for a 'pick a person' box."""
    from aidcases import selectors as hub_selectors

    query = query.strip()
    if not query or any(ch.isdigit() for ch in query):
        return []
    found = hub_selectors.people_search(hub_selectors.people_for(user=user), query, id_tails=False)
    return list(found.order_by("name", "pk")[:limit])


def person_in_scope(*, user: User, pk) -> Person | None:
    from aidcases import selectors as hub_selectors

    try:
        return hub_selectors.people_for(user=user).get(pk=int(pk))
    except (Person.DoesNotExist, TypeError, ValueError):
        return None


# --- programmes ------------------------------------------------------------------


def programme_list(*, user: User) -> QuerySet[AidProgramme]:
    return (
        _scoped(AidProgramme, user)
        .prefetch_related("funds", "bands")
        .annotate(batch_count=Count("batches", distinct=True))
        .order_by("-is_active", "name", "pk")
    )


def programme_for_user_or_404(*, user: User, pk: int) -> AidProgramme:
    return access.get_for_user_or_404(
        AidProgramme.objects.prefetch_related("funds", "bands"), user, pk=pk
    )
