"""Reads of the duplicate review queue (疑似重复): people without an ID number,
and pairs of records that are likely the same person.

Pairs are found by SQL self-joins on indexed columns (name + birth date, and
guardian phone), never by comparing people in Python, so the queue stays fast
at province scale. Both records of a pair must lie in the user's scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db import connection, transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _

from aidcases import access, pii, selectors
from aidcases.models import AidCase, Area, DistinctPersons, Person, User

KIND_NAME_BIRTH = "name_birth"
KIND_GUARDIAN_PHONE = "guardian_phone"
KIND_LABELS = {
    KIND_NAME_BIRTH: _("姓名、出生日期相同"),
    KIND_GUARDIAN_PHONE: _("监护人电话相同，姓名相近"),
}

# Names "similar" for the guardian-phone rule: same surname (first character),
# or sharing at least two characters, or at most one edit apart. PostgreSQL
# without the fuzzystrmatch extension: the edit distance of ≤ 1 is spelled out
# (same length and one position differs, or one character deleted). Evaluated
# only on the few pairs that already share a guardian phone.
_SIMILAR_NAMES = """
(
    left(a.name, 1) = left(b.name, 1)
    OR (SELECT count(DISTINCT ch) FROM regexp_split_to_table(a.name, '') AS ch
        WHERE strpos(b.name, ch) > 0) >= 2
    OR (char_length(a.name) = char_length(b.name)
        AND (SELECT count(*) FROM generate_series(1, char_length(a.name)) AS i
             WHERE substr(a.name, i, 1) <> substr(b.name, i, 1)) <= 1)
    OR (char_length(a.name) = char_length(b.name) + 1
        AND EXISTS (SELECT 1 FROM generate_series(1, char_length(a.name)) AS i
                    WHERE overlay(a.name PLACING '' FROM i FOR 1) = b.name))
    OR (char_length(b.name) = char_length(a.name) + 1
        AND EXISTS (SELECT 1 FROM generate_series(1, char_length(b.name)) AS i
                    WHERE overlay(b.name PLACING '' FROM i FOR 1) = a.name))
)
"""


# Each pair once (a before b). Spelled so that it cannot use the primary-key
# index: PostgreSQL would otherwise AND an "every later id" bitmap into each
# probe, which turns the self-join quadratic.
_ORDERED = "m.id - a.id > 0"
_LIVE = "a.is_active AND b.is_active AND a.merged_into_id IS NULL AND b.merged_into_id IS NULL"


def _areas_sql(user: User) -> tuple[str, str] | None:
    """(SQL array of the user's area ids, its LIKE parameter); ("", "") for a user who sees
    everything; None for one who sees no one."""
    if not (user.is_authenticated and user.is_active):
        return None
    if access.sees_everything(user):
        return "", ""
    if user.area_id is None:
        return None
    # ARRAY(…): the ids are computed once (an InitPlan), then filter or probe the
    # person.area index. As `IN (SELECT …)` the planner, expecting one area,
    # put the areas outside and re-ran the name+birth groups for each: 15 s.
    areas = f"ARRAY(SELECT id FROM {Area._meta.db_table} WHERE path LIKE %s)"  # noqa: S608
    return areas, user.area.path + "%"


def _scope_sql(user: User) -> tuple[str, list[str]] | None:
    """(where, params) restricting both a and b to the user's scope; None when
    the user sees no one. Area ids first, so that a township's people are
    found through the person.area index instead of a scan of everyone."""
    found = _areas_sql(user)
    if found is None:
        return None
    areas, prefix = found
    if not areas:
        return "", []
    return f"AND a.area_id = ANY({areas}) AND b.area_id = ANY({areas})", [prefix, prefix]


def _name_birth_sql(where: str, groups_where: str = "") -> str:
    person = Person._meta.db_table
    # The records of one group, through the (name, birth_date) index. OFFSET 0
    # keeps each a subquery run per group: pulled up into a plain join, the
    # planner (which expects ten times the real number of groups) hash-joined
    # a sequential scan of every person instead.
    members = (
        f"SELECT * FROM {person} m WHERE m.name = g.name "  # noqa: S608
        "AND m.birth_date = g.birth_date AND m.is_active AND m.merged_into_id IS NULL"
    )
    return (
        # Only table names and constants are interpolated; values are parameters.
        f"SELECT a.id AS a_id, b.id AS b_id, '{KIND_NAME_BIRTH}' AS kind, "  # noqa: S608
        "(a.id_number_hash IS NOT NULL AND b.id_number_hash IS NOT NULL) AS both_ids "
        # Groups first: (name, birth date) that occur twice are few, and the
        # (name, birth_date) index answers the grouping without reading rows.
        # Both records of a pair lie in the user's scope, so a township's groups are
        # counted among its own people (1,300 rows, not the province's 200,000).
        f"FROM (SELECT name, birth_date FROM {person} WHERE is_active "
        f"AND merged_into_id IS NULL AND birth_date IS NOT NULL {groups_where} "
        "GROUP BY name, birth_date HAVING count(*) > 1) g "
        f"CROSS JOIN LATERAL ({members} OFFSET 0) a "
        f"CROSS JOIN LATERAL ({members} AND {_ORDERED} OFFSET 0) b "
        f"WHERE {_LIVE} {where}"
    )


def _guardian_phone_sql(where: str) -> str:
    """Same guardian phone and a similar name, one of the two without an ID
    number. Two records that both carry (different, as they are unique) ID
    numbers are two people: otherwise every pair of siblings would be listed
    (tens of thousands at province scale). Starting from the few records
    without an ID keeps this a handful of index probes on guardian_phone."""
    person = Person._meta.db_table
    return (
        "SELECT least(a.id, b.id) AS a_id, greatest(a.id, b.id) AS b_id, "  # noqa: S608
        f"'{KIND_GUARDIAN_PHONE}' AS kind, false AS both_ids "
        f"FROM {person} a JOIN {person} b "
        "ON b.guardian_phone = a.guardian_phone AND b.id <> a.id "
        "WHERE a.id_number_hash IS NULL AND a.guardian_phone <> '' "
        f"AND {_LIVE} {where} AND {_SIMILAR_NAMES}"
    )


def _pairs_sql(user: User, kind: str) -> tuple[str, list] | None:
    """SQL selecting (a_id, b_id, kinds, both_ids) of every candidate pair, a_id < b_id."""
    scope = _scope_sql(user)
    if scope is None:
        return None
    where, scope_params = scope
    branches, params = [], []
    if kind in ("", KIND_NAME_BIRTH):
        areas, prefix = _areas_sql(user)
        groups_where = f"AND area_id = ANY({areas})" if areas else ""
        branches.append(_name_birth_sql(where, groups_where))
        params += ([prefix] if areas else []) + scope_params
    if kind in ("", KIND_GUARDIAN_PHONE):
        branches.append(_guardian_phone_sql(where))
        params += scope_params
    distinct = DistinctPersons._meta.db_table
    sql = (
        "SELECT a_id, b_id, array_agg(DISTINCT kind ORDER BY kind) AS kinds, "  # noqa: S608
        "bool_or(both_ids) AS both_ids "
        f"FROM ({' UNION ALL '.join(branches)}) AS pairs "
        f"WHERE NOT EXISTS (SELECT 1 FROM {distinct} d "
        "WHERE d.person_a_id = pairs.a_id AND d.person_b_id = pairs.b_id) "
        "GROUP BY a_id, b_id"
    )
    return sql, params


@dataclass
class ReviewPerson:
    """What the side-by-side card shows of one record."""

    person: Person

    @cached_property
    def masked_id(self) -> str:
        return self.person.masked_id_number

    @property
    def masked_guardian_phone(self) -> str:
        phone = self.person.guardian_phone
        return pii.mask_phone(phone) if phone else ""

    @property
    def masked_phone(self) -> str:
        return pii.mask_phone(self.person.phone) if self.person.phone else ""

    @property
    def village(self) -> str:
        area = self.person.area
        parent = area.parent.name if area.parent_id else ""
        return f"{parent}{area.name}"

    @property
    def open_cases(self) -> list[AidCase]:
        return getattr(self.person, "open_cases", [])


@dataclass
class DuplicatePair:
    a: ReviewPerson
    b: ReviewPerson
    kinds: list[str]

    @property
    def reasons(self) -> list[str]:
        return [str(KIND_LABELS[k]) for k in self.kinds if k in KIND_LABELS]

    @property
    def ids_differ(self) -> bool:
        """Two different ID numbers: not mergeable (the ID identifies a person)."""
        a, b = self.a.person, self.b.person
        return a.has_id_number and b.has_id_number and a.id_number_hash != b.id_number_hash


def _review_people(ids) -> dict[int, Person]:
    people = Person.objects.filter(pk__in=list(ids)).select_related("area", "area__parent")
    people = people.prefetch_related(
        Prefetch(
            "cases",
            queryset=AidCase.objects.filter(status=AidCase.Status.OPEN).order_by("category"),
            to_attr="open_cases",
        )
    )
    return {p.pk: p for p in people}


def _plan_small(cursor) -> None:
    """For the pairs query, in its transaction: no JIT and no parallel workers.
    Its row estimates are far too high (the guardian-phone branch expects tens
    of thousands of rows and finds a handful), which made PostgreSQL spend ~90 ms
    compiling it and start workers that each rebuilt the same groups: 330 ms at
    county scope instead of 35."""
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")


class DuplicatePairs:
    """Candidate pairs of one user (and reason), fetched a page at a time: one
    query gives the page and the total (a window count), two more load the
    people on it — whatever the number of people."""

    def __init__(self, *, user: User, kind: str = ""):
        self.user = user
        self.kind = kind if kind in KIND_LABELS else ""
        self._sql = _pairs_sql(user, self.kind)

    def count(self) -> int:
        if self._sql is None:
            return 0
        sql, params = self._sql
        with transaction.atomic(), connection.cursor() as cursor:
            _plan_small(cursor)
            cursor.execute(f"SELECT count(*) FROM ({sql}) AS grouped", params)  # noqa: S608
            return cursor.fetchone()[0]

    def fetch(self, *, offset: int, limit: int) -> tuple[list[DuplicatePair], int | None]:
        """The pairs in [offset, offset + limit) and the total (None when the
        offset is past the end)."""
        if self._sql is None:
            return [], 0
        sql, params = self._sql
        # Most likely first: a record without an ID number beside one with
        # (the usual way a person ends up registered twice), then same name +
        # birth; pairs with two different ID numbers last.
        query = (
            f"SELECT *, count(*) OVER () FROM ({sql}) AS grouped "  # noqa: S608
            "ORDER BY both_ids, %s = ANY(kinds) DESC, a_id, b_id LIMIT %s OFFSET %s"
        )
        with transaction.atomic(), connection.cursor() as cursor:
            _plan_small(cursor)
            cursor.execute(query, [*params, KIND_NAME_BIRTH, limit, offset])
            rows = cursor.fetchall()
        if not rows:
            return [], (0 if offset == 0 else None)
        people = _review_people({pk for a_id, b_id, *_rest in rows for pk in (a_id, b_id)})
        pairs = [
            DuplicatePair(a=ReviewPerson(people[a_id]), b=ReviewPerson(people[b_id]), kinds=kinds)
            for a_id, b_id, kinds, _both, _total in rows
        ]
        return pairs, rows[0][-1]

    def __getitem__(self, index):
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        limit = 10**9 if stop is None else max(stop - start, 0)
        return self.fetch(offset=start, limit=limit)[0] if limit else []

    def page(self, number, per_page: int) -> Page:
        """A Django Page (for _pagination.html) of `number`, clamped to the range."""
        try:
            number = max(int(number), 1)
        except (TypeError, ValueError):
            number = 1
        pairs, total = self.fetch(offset=(number - 1) * per_page, limit=per_page)
        if total is None:  # past the end: show the last page
            total = self.count()
            number = max((total + per_page - 1) // per_page, 1)
            pairs, total = self.fetch(offset=(number - 1) * per_page, limit=per_page)
        return Paginator(_Fetched(pairs, total or 0), per_page).page(number)


class _Fetched:
    """One page already fetched, posing as the whole list for Paginator."""

    def __init__(self, page: list, total: int):
        self._page, self._total = page, total

    def count(self) -> int:
        return self._total

    def __getitem__(self, index) -> list:
        return self._page


def duplicate_pairs(*, user: User, kind: str = "") -> DuplicatePairs:
    return DuplicatePairs(user=user, kind=kind)


def people_without_id(*, user: User) -> QuerySet[Person]:
    """Active people in scope registered without an ID number, newest first."""
    return (
        selectors.people_for(user=user)
        .filter(id_number_hash__isnull=True, merged_into__isnull=True)
        .prefetch_related(
            Prefetch(
                "cases",
                queryset=AidCase.objects.filter(status=AidCase.Status.OPEN).order_by("category"),
                to_attr="open_cases",
            )
        )
        .order_by("-created_at", "-pk")
    )


def review_people_for_merge(*, user: User, a_id: int, b_id: int) -> tuple[Person, Person]:
    """Both records of a pair, each fetched through the user's scope (404 otherwise)."""
    a = selectors.person_for_user_or_404(user=user, pk=a_id)
    b = selectors.person_for_user_or_404(user=user, pk=b_id)
    return a, b


def review_person(person: Person) -> ReviewPerson:
    person = _review_people([person.pk])[person.pk]
    return ReviewPerson(person)
