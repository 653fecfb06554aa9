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


def update_rows(objs: list, fields: list[str]) -> int:
    """Write `fields` of model instances `objs` (one model) in one UPDATE … FROM (VALUES …)
    statement: what `bulk_update` does, without its CASE WHEN per row and field, which
    Django builds in Python and PostgreSQL evaluates row × row (10,000 changed roster rows:
    30 s of 45 in `bulk_update`). Row triggers (the field history) fire as for any UPDATE,
    inside the caller's pghistory context."""
    if not objs:
        return 0
    from django.db import connection

    model = type(objs[0])
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    params = []
    for obj in objs:
        for field in columns:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    names = ", ".join(quote(f"v_{field.column}") for field in columns)
    assignments = ", ".join(
        f"{quote(field.column)} = v.{quote(f'v_{field.column}')}::{field.db_type(connection)}"
        for field in columns[1:]
    )
    pk = columns[0]
    # Only quoted names and the models' own column types are formatted in; values are params.
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {assignments} "  # noqa: S608
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v ({names}) "
        f"WHERE {quote(meta.db_table)}.{quote(pk.column)} = "
        f"v.{quote(f'v_{pk.column}')}::{pk.db_type(connection)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
