"""Query building blocks shared by the apps' selectors."""

from __future__ import annotations

from django.db.models import Count, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce


def count_per_row(related: QuerySet, *, by: str) -> Coalesce:
    """An annotation: how many rows of `related` (already filtered, e.g. by
    `team=OuterRef("pk")`) belong to each row of the outer list, 0 for none.

    A correlated subquery, which PostgreSQL runs only for the rows the page shows, where a
    `Count()` over a join groups every row of the list before LIMIT keeps 50 (the county's
    team list: 3,000 teams × their members and activities, 100 ms)."""
    counted = related.order_by().values(by).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))
