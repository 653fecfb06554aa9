"""Money at province scale: funding sources, funds with posted income, five programmes,
2,000 batches over five school years and 600,000 aid lines over the registry scenario's
persons (townships 1498…), the largest batch 5,000 lines.

Loaded with INSERT … SELECT in PostgreSQL in one transaction, history triggers off (as the
volunteers' load): the rows are shaped as the services write them —
- a batch's lines carry the 公示 snapshot and their paid-once key from LOCKED on (NULL
  while DRAFT/VERIFYING, once aborted, and on excluded, failed and reversed lines);
- released batches committed the total of their lines (a `commit` movement), each paid
  line moved it to paid (`pay`), each failed line gave it back (`uncommit`), a reversed
  line was paid and came back (`reversal`, with its Reversal row); income arrives as posted
  entries (`income`; one cancelled entry per fund, with its cancelling entry and
  `income_cancelled`), and every movement's `balance_after` is the fund's running
  balance, never below zero; the fund's income/committed/paid are the movements' sums;
- audit events for every state change, entry and money movement (the nomination and
  verification events of 600,000 lines are left out: no timed page reads them).

Batches: 困难学生助学金 and 留守儿童关爱金 per county and term, 特困人员生活补助 per county
and month, 金秋助学 per township and school year, 医疗救助 per township in rounds. Past
ones closed (some paid or reconciled); the current term's and month's batches in every
state from draft to released (partly paid), a few aborted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from aidcases.models import Area, User

BATCHES = 2_000
LINES = 600_000
BIGGEST = 5_000
PREFIX = (
    "基准"  # the bench's programmes and funds are named 基准…; the demo county's are left alone
)

# name, kind, mode, categories, standard amounts per level, fund key, yearly cap
PROGRAMMES = {
    "student": (
        "基准困难学生助学金",
        "student",
        "per_term",
        ["student"],
        {"special": "1500", "hard": "1000", "general": "750", "": "500"},
        "student",
        "3000",
    ),
    "left_behind": (
        "基准留守儿童关爱金",
        "left_behind",
        "per_term",
        ["left_behind"],
        {"special": "800", "hard": "600", "general": "400", "": "300"},
        "left_behind",
        None,
    ),
    "tekun": (
        "基准特困人员生活补助",
        "tekun",
        "monthly",
        ["tekun"],
        {"special": "600", "hard": "500", "general": "450", "": "400"},
        "tekun",
        None,
    ),
    "autumn": (
        "基准金秋助学",
        "student",
        "one_off",
        ["student"],
        {"": "2000"},
        "autumn",
        None,
    ),
    "medical": (
        "基准医疗救助",
        "medical",
        "one_off",
        ["tekun", "left_behind"],
        {"special": "3000", "hard": "2000", "": "1000"},
        "medical",
        None,
    ),
}
FUNDS = {
    "student": ("基准困难学生助学专项资金", "charity", "基准县慈善总会"),
    "left_behind": ("基准留守儿童关爱基金", "enterprise", "基准爱心企业联合会"),
    "tekun": ("基准特困人员生活补助资金", "allocation", "基准省民政厅"),
    "autumn": ("基准金秋助学专项", "union", "基准县总工会"),
    "medical": ("基准医疗救助基金", "online", "基准网络募捐平台"),
}
EXTRA_SOURCES = [
    ("individual", "基准爱心人士张先生"),
    ("individual", "基准爱心人士李女士"),
    ("enterprise", "基准建材有限公司"),
    ("charity", "基准红十字会"),
    ("other", "基准校友会"),
]
# The states of the current period's batches, cycled over counties / townships.
CURRENT_STATES = [
    "released",
    "released",
    "in_publicity",
    "in_publicity",
    "in_approval",
    "locked",
    "verifying",
    "draft",
    "aborted",
    "paid",
]
STEPS = ["draft", "verifying", "locked", "in_approval", "in_publicity", "released", "paid"]
RELEASED = ("released", "paid", "reconciled", "closed")
KEYED = ("locked", "in_approval", "in_publicity", *RELEASED)


def _count(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _bench_lines() -> int:
    return _count(
        "SELECT count(*) FROM disbursements_aidline l JOIN disbursements_aidbatch b"
        " ON b.id = l.batch_id JOIN disbursements_aidprogramme p ON p.id = b.programme_id"
        " WHERE p.name LIKE %s",
        [PREFIX + "%"],
    )


def populate() -> dict:
    from benchmarks import scenarios_registry

    if _bench_lines() >= LINES * 0.95:
        return _sizes()
    scenarios_registry.populate()  # the persons and cases come first
    users, _township = scenarios_registry.walk_users()
    from aidcases.roles import put_in_role_group

    approver, _ = User.objects.get_or_create(
        username="bench_approver",
        defaults={"role": "approver", "area": users["county"].area},
    )
    put_in_role_group(approver)
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            with transaction.atomic():  # all or nothing: a failed load leaves no half
                _load(
                    cursor,
                    admin=users["county"],
                    officer=users["township officer"],
                    approver=approver,
                )
        finally:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("VACUUM ANALYZE")
    sizes = _sizes()
    sizes["load_seconds"] = round(time.perf_counter() - start, 1)
    return sizes


@dataclass
class Batch:
    programme: str
    name: str
    school_year: int
    term: str
    month: date | None
    created: date
    state: str
    part: str  # which candidates: county+category, township+category, township care group
    scope: str  # county code or township id
    category: str
    start: int  # the slice of the scope's candidates, by rank
    size: int
    wrap: bool  # per-term/monthly slices may wrap round; one-off ones never do
    period: str  # the paid-once key's period suffix
    paid_per_mille: int = 1000
    publicity: tuple[date, date] | None = None


def _terms(today: date) -> list[tuple[int, str, date]]:
    """(school year, term, first day) of the last five school years' terms up to today."""
    current = today.year if today.month >= 9 else today.year - 1
    out = []
    for year in range(current - 4, current + 1):
        for term, first in (("autumn", date(year, 9, 1)), ("spring", date(year + 1, 3, 1))):
            if first <= today:
                out.append((year, term, first))
    return out


def _months(today: date) -> list[date]:
    current = today.year if today.month >= 9 else today.year - 1
    month, out = date(current - 4, 9, 1), []
    while month <= today:
        out.append(month)
        month = date(month.year + (month.month // 12), month.month % 12 + 1, 1)
    return out


def _plan(today: date, counties: list[str], townships: list[int]) -> list[Batch]:
    plan: list[Batch] = []
    terms = _terms(today)
    months = _months(today)
    for i, (year, term, first) in enumerate(terms):
        current = i == len(terms) - 1
        label = "秋季学期" if term == "autumn" else "春季学期"
        for c, county in enumerate(counties):
            for key, size, category in (
                ("student", 1000, "student"),
                ("left_behind", 600, "left_behind"),
            ):
                if current:
                    state = CURRENT_STATES[(c + (key == "left_behind") * 5) % 10]
                else:
                    state = "closed" if i < len(terms) - 2 else ("paid", "reconciled")[c % 2]
                big = current and key == "student" and c == 0
                plan.append(
                    Batch(
                        programme=key,
                        name=f"{year}学年{label}{PROGRAMMES[key][0][2:]}（基准县{c}）",
                        school_year=year,
                        term=term,
                        month=None,
                        created=first,
                        state="released" if big else state,
                        part="county",
                        scope=county,
                        category=category,
                        start=i * size,
                        size=BIGGEST if big else size,
                        wrap=True,
                        period=f"{year}{term}",
                        paid_per_mille=600 if big or state == "released" else 1000,
                    )
                )
    for i, month in enumerate(months):
        current = i == len(months) - 1
        year = month.year if month.month >= 9 else month.year - 1
        for c, county in enumerate(counties):
            if current:
                state = CURRENT_STATES[(c + 3) % 10]
            else:
                state = "closed" if i < len(months) - 2 else "paid"
            plan.append(
                Batch(
                    programme="tekun",
                    name=f"{month:%Y年%m月}特困人员生活补助（基准县{c}）",
                    school_year=year,
                    term="",
                    month=month,
                    created=month,
                    state=state,
                    part="county",
                    scope=county,
                    category="tekun",
                    start=0,  # the same persons every month
                    size=700,
                    wrap=True,
                    period=f"{month:%Y-%m}",
                    paid_per_mille=600 if state == "released" else 1000,
                )
            )
    years = sorted({year for year, _term, _first in terms})
    for y, year in enumerate(years):
        for t, township in enumerate(townships):
            state = CURRENT_STATES[(t + 7) % 10] if y == len(years) - 1 else "closed"
            plan.append(
                Batch(
                    programme="autumn",
                    name=f"{year}年金秋助学（基准镇{t}）",
                    school_year=year,
                    term="",
                    month=None,
                    created=min(date(year, 10, 8), today - timedelta(days=40)),
                    state=state,
                    part="township",
                    scope=str(township),
                    category="student",
                    start=y * 80,
                    size=80,
                    wrap=False,
                    period="",
                    paid_per_mille=600 if state == "released" else 1000,
                )
            )
    # 医疗救助 in rounds per township: as many batches as make 2,000 and lines as make 600,000.
    rounds = BATCHES - len(plan)
    lines = LINES - sum(b.size for b in plan)
    for n in range(rounds):
        r, t = divmod(n, len(townships))
        year = years[min(len(years) - 1, 1 + r)]
        last = (n + 1) * lines // rounds - n * lines // rounds
        state = CURRENT_STATES[(t + 9) % 10] if year == years[-1] else "closed"
        plan.append(
            Batch(
                programme="medical",
                name=f"{year}年第{r + 1}批医疗救助（基准镇{t}）",
                school_year=year,
                term="",
                month=None,
                created=min(date(year, 11, 1), today - timedelta(days=35)),
                state=state,
                part="care",
                scope=str(townships[t]),
                category="",
                start=r * 70,
                size=last,
                wrap=False,
                period="",
                paid_per_mille=600 if state == "released" else 1000,
            )
        )
    for batch in plan:  # (a bench loaded early in a term still releases before today)
        batch.created = min(batch.created, today - timedelta(days=20))
    # The current period's batches in publicity: half with the window over (releasable).
    from django.conf import settings

    from disbursements.workdays import working_days_end

    days = settings.PUBLICITY_WORKING_DAYS
    for n, batch in enumerate(b for b in plan if b.state == "in_publicity"):
        starts = today - timedelta(days=14 if n % 2 else 2)
        batch.publicity = (starts, working_days_end(starts, days))
    for batch in plan:
        if batch.publicity is None and batch.state in (*RELEASED, "aborted"):
            starts = batch.created + timedelta(days=10)
            batch.publicity = (starts, working_days_end(starts, days))
    return plan


def _at(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


def _load(cursor, *, admin: User, officer: User, approver: User) -> None:
    from django.contrib.contenttypes.models import ContentType

    from aidcases.models import hardship_level_choices
    from disbursements.models import AidBatch, AidLine, FundEntry, Reversal

    today = timezone.localdate()
    counties = list(
        Area.objects.filter(level="county", code__startswith="1498")
        .order_by("code")
        .values_list("code", flat=True)
    )
    townships = list(
        Area.objects.filter(level="township", code__startswith="1498")
        .order_by("code")
        .values_list("pk", flat=True)
    )
    now = timezone.now()
    # --- sources, funds, programmes ------------------------------------------------
    sources = {}
    for key, (_fund, kind, name) in FUNDS.items():
        sources[key] = _insert(
            cursor,
            "disbursements_fundingsource",
            kind=kind,
            name=name,
            contact_name="王主任",
            contact_phone="0350-7654321",
            publish_name=True,
            notes="",
            is_active=True,
            created_at=now,
        )
    for kind, name in EXTRA_SOURCES:
        _insert(
            cursor,
            "disbursements_fundingsource",
            kind=kind,
            name=name,
            contact_name="",
            contact_phone="",
            publish_name=kind != "individual",
            notes="",
            is_active=True,
            created_at=now,
        )
    funds = {
        key: _insert(
            cursor,
            "disbursements_fund",
            name=name,
            purpose=f"{PROGRAMMES[key][0][2:]}发放",
            restriction="none",
            restricted_school_name="",
            income=0,
            committed=0,
            paid=0,
            is_active=True,
            created_at=now,
        )
        for key, (name, _kind, _source) in FUNDS.items()
    }
    programmes = {}
    for key, (name, kind, mode, categories, amounts, fund, cap) in PROGRAMMES.items():
        programmes[key] = _insert(
            cursor,
            "disbursements_aidprogramme",
            name=name,
            kind=kind,
            mode=mode,
            months=12 if mode == "monthly" else None,
            standard_amounts=json.dumps(amounts),
            categories=categories,
            levels=[],
            flags=[],
            school_stages=[],
            yearly_cap=cap,
            approvals_required=1,
            is_active=True,
            created_at=now,
        )
        cursor.execute(
            "INSERT INTO disbursements_aidprogramme_funds (aidprogramme_id, fund_id)"
            " VALUES (%s, %s)",
            [programmes[key], funds[fund]],
        )
    # A fund restricted to a school, no batches yet (the fund list shows it).
    _insert(
        cursor,
        "disbursements_fund",
        name="基准爱心企业定向助学款",
        purpose="定向资助基准镇0小学",
        restriction="school",
        restricted_school_name="基准镇0-0小学",
        income=0,
        committed=0,
        paid=0,
        is_active=True,
        created_at=now,
    )
    # --- batches ---------------------------------------------------------------------
    plan = _plan(today, counties, townships)
    batches = AidBatch.objects.bulk_create(
        [
            AidBatch(
                programme_id=programmes[b.programme],
                name=b.name,
                school_year=b.school_year,
                term=b.term,
                month=b.month,
                fund_id=funds[PROGRAMMES[b.programme][5]],
                state=b.state,
                approvals_required=1,
                approval_round=1,
                publicity_starts=b.publicity[0] if b.publicity else None,
                publicity_ends=b.publicity[1] if b.publicity else None,
                publicity_phone="0350-1234567" if b.publicity else "",
                issuer="共青团基准县委" if b.publicity else "",
                last_comment="名单有误，终止本批次" if b.state == "aborted" else "",
                created_by=admin,
                created_at=_at(b.created, 9),
            )
            for b in plan
        ],
        batch_size=1000,
    )
    cursor.execute(
        "CREATE TEMP TABLE bench_plan (batch_id bigint, programme_id bigint, fund_id bigint,"
        " mode text, amounts jsonb, state text, part text, scope text, category text,"
        " start int, size int, wrap bool, period text, paid_per_mille int, created date,"
        " released date, paid date, name text) ON COMMIT DROP"
    )
    rows = []
    for batch, b in zip(batches, plan, strict=True):
        released = b.publicity[1] + timedelta(days=1) if b.state in RELEASED else None
        paid = min(released + timedelta(days=3), today) if released else None
        rows.append(
            (
                batch.pk,
                programmes[b.programme],
                funds[PROGRAMMES[b.programme][5]],
                PROGRAMMES[b.programme][2],
                json.dumps(PROGRAMMES[b.programme][4]),
                b.state,
                b.part,
                b.scope,
                b.category,
                b.start,
                b.size,
                b.wrap,
                b.period,
                b.paid_per_mille,
                b.created,
                released,
                paid,
                b.name,
            )
        )
    cursor.executemany("INSERT INTO bench_plan VALUES (" + ", ".join(["%s"] * 18) + ")", rows)
    # --- candidates: every open case of the bench's persons, ranked per scope ---------
    levels = dict(hardship_level_choices())
    cursor.execute(
        """
        CREATE TEMP TABLE bench_cand ON COMMIT DROP AS
        SELECT p.id AS person_id, c.id AS case_id, c.category, c.hardship_level,
               p.name, p.birth_date, v.name AS village, v.parent_id AS township,
               left(v.code, 6) AS county,
               coalesce(s.name, '') AS school, coalesce(sp.grade, lp.grade, '') AS grade,
               row_number() OVER (PARTITION BY left(v.code, 6), c.category ORDER BY p.id) - 1
                   AS rk_county,
               count(*) OVER (PARTITION BY left(v.code, 6), c.category) AS n_county,
               row_number() OVER (PARTITION BY v.parent_id, c.category ORDER BY p.id) - 1
                   AS rk_town,
               row_number() OVER (PARTITION BY v.parent_id, c.category IN ('tekun', 'left_behind')
                                  ORDER BY p.id) - 1 AS rk_care
        FROM aidcases_person p
        JOIN aidcases_aidcase c ON c.person_id = p.id AND c.status = 'open'
        JOIN aidcases_area v ON v.id = p.area_id
        LEFT JOIN students_studentprofile sp ON sp.case_id = c.id
        LEFT JOIN students_leftbehindprofile lp ON lp.case_id = c.id
        LEFT JOIN students_school s ON s.id = coalesce(sp.school_id, lp.school_id)
        WHERE v.code LIKE '1498%%' AND p.is_active AND p.merged_into_id IS NULL
        """
    )
    # --- lines ---------------------------------------------------------------------------
    # A line's fate from a hash of (batch, person): excluded at verification (3‰), failed
    # at payment (8‰), reversed after payment (1‰, closed batches), paid (the batch's
    # paid_per_mille of the rest, once released), else pending.
    fate = "((c.person_id * 7919 + b.batch_id * 104729) %% 1000)"
    matches = {
        "county": (
            "c.county = b.scope AND c.category = b.category AND"
            " ((c.rk_county - b.start) %% c.n_county + c.n_county) %% c.n_county < b.size"
        ),
        "township": (
            "c.township = b.scope::bigint AND c.category = b.category"
            " AND c.rk_town >= b.start AND c.rk_town < b.start + b.size"
        ),
        "care": (
            "c.township = b.scope::bigint AND c.category IN ('tekun', 'left_behind')"
            " AND c.rk_care >= b.start AND c.rk_care < b.start + b.size"
        ),
    }
    level_case = (
        "CASE c.hardship_level "
        + " ".join(f"WHEN '{code}' THEN '{label}'" for code, label in levels.items())
        + " ELSE '' END"
    )
    for part, match in matches.items():
        cursor.execute(
            f"""
            INSERT INTO disbursements_aidline
                (batch_id, person_id, case_id, amount, fund_id, reason, nominated_by_id,
                 nominated_at, verification_method, verified_by_id, verified_at,
                 verification_note, snap_name, snap_village, snap_school, snap_grade,
                 snap_level, snap_birth_date, state, once_key, method, paid_on, voucher,
                 failure_reason, receipt_id, retry_of_id)
            SELECT b.batch_id, c.person_id, c.case_id,
                   coalesce(b.amounts ->> c.hardship_level, b.amounts ->> '')::numeric,
                   b.fund_id, '',
                   CASE WHEN c.township = %(town)s THEN %(officer)s ELSE %(admin)s END,
                   b.created + interval '1 day',
                   CASE WHEN v.verified THEN (ARRAY['home', 'phone', 'documents'])[1 + f.h %% 3]
                        ELSE '' END,
                   CASE WHEN v.verified THEN %(admin)s END,
                   CASE WHEN v.verified THEN b.created + interval '3 days' END,
                   CASE WHEN s.state = 'excluded' THEN '已迁出本县，不再符合条件' ELSE '' END,
                   CASE WHEN v.snap THEN c.name ELSE '' END,
                   CASE WHEN v.snap THEN c.village ELSE '' END,
                   CASE WHEN v.snap THEN c.school ELSE '' END,
                   CASE WHEN v.snap THEN c.grade ELSE '' END,
                   CASE WHEN v.snap THEN {level_case} ELSE '' END,
                   CASE WHEN v.snap THEN c.birth_date END,
                   s.state,
                   CASE WHEN b.state = ANY(%(keyed)s) AND s.state IN ('pending', 'paid')
                        THEN b.programme_id || ':' || c.person_id
                             || CASE WHEN b.period = '' THEN '' ELSE ':' || b.period END
                   END,
                   CASE WHEN s.state IN ('paid', 'reversed') THEN 'bank' ELSE '' END,
                   CASE WHEN s.state IN ('paid', 'reversed') THEN b.paid END,
                   CASE WHEN s.state IN ('paid', 'reversed')
                        THEN 'YH' || b.batch_id || '-' || c.person_id ELSE '' END,
                   CASE WHEN s.state = 'failed' THEN '账户已销户' ELSE '' END,
                   NULL, NULL
            FROM bench_plan b
            JOIN bench_cand c ON {match}
            CROSS JOIN LATERAL (SELECT {fate} AS h) f
            CROSS JOIN LATERAL (
                SELECT b.state NOT IN ('draft', 'verifying') OR (b.state = 'verifying'
                       AND f.h %% 2 = 0) AS verified,
                       b.state = ANY(%(keyed)s) OR b.state = 'aborted' AS snap
            ) v
            CROSS JOIN LATERAL (
                SELECT CASE
                    WHEN b.state <> 'draft' AND f.h < 3 THEN 'excluded'
                    WHEN b.state = ANY(%(released)s) AND f.h < 11 THEN 'failed'
                    WHEN b.state = 'closed' AND f.h < 12 THEN 'reversed'
                    WHEN b.state = ANY(%(released)s) AND f.h < 12 + b.paid_per_mille * 988 / 1000
                        THEN 'paid'
                    ELSE 'pending' END AS state
            ) s
            WHERE b.part = %(part)s
            """,
            {
                "part": part,
                "town": officer.area_id,
                "officer": officer.pk,
                "admin": admin.pk,
                "keyed": list(KEYED),
                "released": list(RELEASED),
            },
        )
    # --- approvals ---------------------------------------------------------------------
    cursor.execute(
        """
        INSERT INTO disbursements_batchapproval
            (batch_id, approver_id, round, approved, comment, at)
        SELECT batch_id, %s, 1, true, '同意', created + interval '9 days' FROM bench_plan
        WHERE state IN ('in_publicity', 'released', 'paid', 'reconciled', 'closed')
        """,
        [approver.pk],
    )
    # --- money in: an entry per fund and school year before its first release, covering
    # the year's commitments; one cancelled entry (and its cancelling entry) per fund ---
    cursor.execute(
        """
        CREATE TEMP TABLE bench_need ON COMMIT DROP AS
        SELECT b.fund_id, extract(year FROM b.released - interval '8 months')::int AS year,
               sum(l.amount) AS total
        FROM bench_plan b JOIN disbursements_aidline l ON l.batch_id = b.batch_id
        WHERE b.released IS NOT NULL AND l.state <> 'excluded'
        GROUP BY 1, 2
        """
    )
    cursor.execute(
        """
        INSERT INTO disbursements_fundentry
            (source_id, fund_id, amount, received_on, document_number, receipt_state, state,
             cancels_id, notes, created_by_id, created_at, posted_by_id, posted_at)
        SELECT s.source, n.fund_id, ceil(n.total * 1.08 / 10000) * 10000 + 50000,
               make_date(n.year, 8, 15), '基准拨' || n.year || '-' || n.fund_id, 'issued',
               'posted', NULL, '', %(admin)s, make_date(n.year, 8, 15) + interval '9 hours',
               %(admin)s, make_date(n.year, 8, 15) + interval '10 hours'
        FROM bench_need n JOIN unnest(%(funds)s::bigint[], %(sources)s::bigint[]) AS s(fund, source)
            ON s.fund = n.fund_id
        ORDER BY n.year, n.fund_id
        """,
        {
            "admin": admin.pk,
            "funds": [funds[k] for k in FUNDS],
            "sources": [sources[k] for k in FUNDS],
        },
    )
    first_year = min(b.school_year for b in plan)
    cursor.execute(
        """
        WITH original AS (
            INSERT INTO disbursements_fundentry
                (source_id, fund_id, amount, received_on, document_number, receipt_state, state,
                 cancels_id, notes, created_by_id, created_at, posted_by_id, posted_at)
            SELECT s.source, s.fund, 20000, make_date(%(year)s, 8, 20), '基准误录-' || s.fund,
                   'issued', 'cancelled', NULL, '', %(admin)s,
                   make_date(%(year)s, 8, 20) + interval '9 hours', %(admin)s,
                   make_date(%(year)s, 8, 20) + interval '10 hours'
            FROM unnest(%(funds)s::bigint[], %(sources)s::bigint[]) AS s(fund, source)
            RETURNING id, source_id, fund_id
        )
        INSERT INTO disbursements_fundentry
            (source_id, fund_id, amount, received_on, document_number, receipt_state, state,
             cancels_id, notes, created_by_id, created_at, posted_by_id, posted_at)
        SELECT source_id, fund_id, 20000, make_date(%(year)s, 8, 22), '基准误录-' || fund_id,
               'issued', 'posted', id, '金额录入错误，冲销', %(admin)s,
               make_date(%(year)s, 8, 22) + interval '9 hours', %(admin)s,
               make_date(%(year)s, 8, 22) + interval '9 hours'
        FROM original
        """,
        {
            "admin": admin.pk,
            "year": first_year,
            "funds": [funds[k] for k in FUNDS],
            "sources": [sources[k] for k in FUNDS],
        },
    )
    # A draft entry not yet posted (counts for nothing).
    cursor.execute(
        """
        INSERT INTO disbursements_fundentry
            (source_id, fund_id, amount, received_on, document_number, receipt_state, state,
             cancels_id, notes, created_by_id, created_at, posted_by_id, posted_at)
        VALUES (%s, %s, 8000, %s, '', 'anonymous', 'draft', NULL, '待核对', %s, now(), NULL, NULL)
        """,
        [sources["student"], funds["student"], today, admin.pk],
    )
    # --- reversals of reversed lines ----------------------------------------------------
    cursor.execute(
        """
        INSERT INTO disbursements_reversal (line_id, amount, reason, voucher, by_id, at)
        SELECT l.id, l.amount, '重复发放，退回', 'CZ' || l.id, %s,
               l.paid_on + interval '20 days 10 hours'
        FROM disbursements_aidline l WHERE l.state = 'reversed'
        """,
        [admin.pk],
    )
    # --- the ledger: every movement in time order, with the running balance -----------
    cursor.execute(
        """
        INSERT INTO disbursements_fundmovement
            (fund_id, kind, amount, entry_id, batch_id, line_id, balance_after, by_id, at)
        SELECT fund_id, kind, amount, entry_id, batch_id, line_id,
               sum(effect) OVER (PARTITION BY fund_id ORDER BY at, seq), %(admin)s, at
        FROM (
            SELECT m.*, row_number() OVER (ORDER BY at, coalesce(line_id, 0), kind) AS seq
            FROM (
                SELECT e.fund_id, CASE WHEN e.cancels_id IS NULL THEN 'income'
                                       ELSE 'income_cancelled' END AS kind,
                       e.amount, e.id AS entry_id, NULL::bigint AS batch_id,
                       NULL::bigint AS line_id, e.posted_at AS at,
                       CASE WHEN e.cancels_id IS NULL THEN e.amount ELSE -e.amount END AS effect
                FROM disbursements_fundentry e WHERE e.state <> 'draft'
                UNION ALL
                SELECT b.fund_id, 'commit', sum(l.amount), NULL, b.batch_id, NULL,
                       b.released + interval '9 hours', -sum(l.amount)
                FROM bench_plan b JOIN disbursements_aidline l ON l.batch_id = b.batch_id
                WHERE b.released IS NOT NULL AND l.state <> 'excluded'
                GROUP BY b.fund_id, b.batch_id, b.released
                UNION ALL
                SELECT l.fund_id, 'pay', l.amount, NULL, NULL, l.id,
                       l.paid_on + interval '10 hours' + (l.id %% 3600) * interval '1 second', 0
                FROM disbursements_aidline l JOIN bench_plan b ON b.batch_id = l.batch_id
                WHERE l.state IN ('paid', 'reversed')
                UNION ALL
                SELECT l.fund_id, 'uncommit', l.amount, NULL, NULL, l.id,
                       b.paid + interval '11 hours', l.amount
                FROM disbursements_aidline l JOIN bench_plan b ON b.batch_id = l.batch_id
                WHERE l.state = 'failed'
                UNION ALL
                SELECT l.fund_id, 'reversal', r.amount, NULL, NULL, l.id, r.at, r.amount
                FROM disbursements_reversal r JOIN disbursements_aidline l ON l.id = r.line_id
                JOIN bench_plan b ON b.batch_id = l.batch_id
            ) m
        ) ordered
        ORDER BY at, seq
        """,
        {"admin": admin.pk},
    )
    cursor.execute(
        """
        UPDATE disbursements_fund f SET
            income = t.income, committed = t.committed, paid = t.paid
        FROM (
            SELECT fund_id,
                   sum(CASE kind WHEN 'income' THEN amount WHEN 'income_cancelled' THEN -amount
                       ELSE 0 END) AS income,
                   sum(CASE kind WHEN 'commit' THEN amount WHEN 'uncommit' THEN -amount
                       WHEN 'pay' THEN -amount ELSE 0 END) AS committed,
                   sum(CASE kind WHEN 'pay' THEN amount WHEN 'reversal' THEN -amount
                       ELSE 0 END) AS paid
            FROM disbursements_fundmovement WHERE fund_id = ANY(%s) GROUP BY fund_id
        ) t
        WHERE f.id = t.fund_id
        """,
        [list(funds.values())],
    )
    if _count(
        "SELECT count(*) FROM disbursements_fundmovement WHERE balance_after < 0"
        " AND fund_id = ANY(%s)",
        [list(funds.values())],
    ):
        raise RuntimeError("bench ledger: a running balance below zero")
    # --- audit events ------------------------------------------------------------------
    types = {
        model: ContentType.objects.get_for_model(model).pk
        for model in (AidBatch, AidLine, FundEntry, Reversal)
    }
    events = []
    for batch, b in zip(batches, plan, strict=True):
        day = b.created
        events.append(
            (batch.pk, "batch.create", _at(day, 9), {"programme": str(batch.programme_id)})
        )
        path = STEPS[: STEPS.index(b.state) + 1] if b.state in STEPS else STEPS
        if b.state == "aborted":
            path = ["draft", "verifying", "locked", "in_approval"]
        for n, (source, to) in enumerate(zip(path, path[1:], strict=False)):
            events.append(
                (batch.pk, f"batch.{to}", _at(day + timedelta(days=3 + 3 * n)), {"from": source})
            )
        if b.state == "aborted":
            events.append(
                (batch.pk, "batch.aborted", _at(day + timedelta(days=12)), {"from": path[-1]})
            )
        if b.state in ("reconciled", "closed"):
            events.append(
                (batch.pk, f"batch.{b.state}", _at(day + timedelta(days=40)), {"from": "paid"})
            )
    cursor.executemany(
        "INSERT INTO aidcases_auditevent (actor_id, verb, object_type_id, object_id, object_repr,"
        " details, ip, at, area_id) SELECT %s, %s, %s, %s::text, name, %s::jsonb, NULL, %s, NULL"
        " FROM disbursements_aidbatch WHERE id = %s",
        [
            (admin.pk, verb, types[AidBatch], pk, json.dumps(details), at, pk)
            for pk, verb, at, details in events
        ],
    )
    cursor.execute(
        """
        INSERT INTO aidcases_auditevent
            (actor_id, verb, object_type_id, object_id, object_repr, details, ip, at, area_id)
        SELECT %(admin)s, v.verb, %(line)s, l.id::text,
               left(b.name || ' · ' || coalesce(nullif(l.snap_name, ''), l.person_id::text), 200),
               v.details, NULL, v.at, NULL
        FROM disbursements_aidline l
        JOIN bench_plan b ON b.batch_id = l.batch_id
        CROSS JOIN LATERAL (
            SELECT 'aid_line.pay' AS verb,
                   jsonb_build_object('amount', l.amount::text, 'voucher', l.voucher) AS details,
                   l.paid_on + interval '10 hours' AS at
            WHERE l.state IN ('paid', 'reversed')
            UNION ALL
            SELECT 'aid_line.fail', jsonb_build_object('reason', l.failure_reason),
                   b.paid + interval '11 hours'
            WHERE l.state = 'failed'
            UNION ALL
            SELECT 'aid_line.reverse', jsonb_build_object('amount', l.amount::text,
                                                          'reason', '重复发放，退回'),
                   l.paid_on + interval '20 days 10 hours'
            WHERE l.state = 'reversed'
        ) v
        """,
        {"admin": admin.pk, "line": types[AidLine]},
    )
    cursor.execute(
        """
        INSERT INTO aidcases_auditevent
            (actor_id, verb, object_type_id, object_id, object_repr, details, ip, at, area_id)
        SELECT %(admin)s, v.verb, %(entry)s, e.id::text,
               left(s.name || ' → ' || f.name || ' ¥' || e.amount, 200),
               jsonb_build_object('amount', e.amount::text, 'fund', e.fund_id), NULL, v.at, NULL
        FROM disbursements_fundentry e
        JOIN disbursements_fundingsource s ON s.id = e.source_id
        JOIN disbursements_fund f ON f.id = e.fund_id
        CROSS JOIN LATERAL (
            SELECT 'fund_entry.create' AS verb, e.created_at AS at
            UNION ALL SELECT 'fund_entry.post', e.posted_at WHERE e.posted_at IS NOT NULL
        ) v
        WHERE f.id = ANY(%(funds)s)
        """,
        {"admin": admin.pk, "entry": types[FundEntry], "funds": list(funds.values())},
    )


def _insert(cursor, table: str, **values) -> int:
    columns = ", ".join(values)
    marks = ", ".join(["%s"] * len(values))
    cursor.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id", list(values.values())
    )
    return cursor.fetchone()[0]


def _sizes() -> dict:
    return {
        "batches": _count(
            "SELECT count(*) FROM disbursements_aidbatch b JOIN disbursements_aidprogramme p"
            " ON p.id = b.programme_id WHERE p.name LIKE %s",
            [PREFIX + "%"],
        ),
        "lines": _bench_lines(),
        "movements": _count("SELECT count(*) FROM disbursements_fundmovement"),
        "entries": _count("SELECT count(*) FROM disbursements_fundentry"),
    }


def biggest_batch() -> tuple[int, int]:
    """(pk, lines) of the bench's largest batch."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT batch_id, count(*) FROM disbursements_aidline GROUP BY batch_id"
            " ORDER BY count(*) DESC, batch_id LIMIT 1"
        )
        return cursor.fetchone()


def pages() -> list[tuple[str, str, object]]:
    from django.db.models import Count
    from django.urls import reverse

    from aidcases.models import Person
    from benchmarks import scenarios_registry
    from disbursements.models import AidLine, Fund

    users, township = scenarios_registry.walk_users()
    admin, officer = users["county"], users["township officer"]
    batch, size = biggest_batch()
    last_page = -(-size // 50)
    fund = (
        Fund.objects.filter(name__startswith=PREFIX)
        .annotate(n=Count("movements"))
        .order_by("-n")
        .first()
    )
    movements = fund.movements.count()
    # Where 下一页 leads after 1,999 pages of the ledger: the last row of page 1,999.
    deep_ledger = fund.movements.order_by("-at", "-id").values_list("pk", flat=True)[
        min(movements, 99_950) - 1
    ]
    person, lines = (
        AidLine.objects.filter(person__area__path__startswith=township.path)
        .values("person")
        .annotate(n=Count("id"))
        .order_by("-n", "person")
        .values_list("person", "n")
        .first()
    )
    assert Person.objects.filter(pk=person).exists()
    detail = reverse("batch_detail", args=[batch])
    # Where 下一页 leads on the last page: after the last line of the page before it.
    before_last = (
        AidLine.objects.filter(batch_id=batch)
        .order_by("id")
        .values_list("pk", flat=True)[(last_page - 1) * 50 - 1]
    )
    funds = reverse("fund_detail", args=[fund.pk])
    person_page = reverse("person_detail", args=[person])
    return [
        (f"batch page ({size:,} lines, page 1, county)", detail, admin),
        (
            f"batch page, page {last_page} (下一页 link)",
            f"{detail}?after={before_last}&page={last_page}",
            admin,
        ),
        (f"batch page, ?page={last_page} (typed)", f"{detail}?page={last_page}", admin),
        ("batch page, same batch (township officer)", detail, officer),
        ("batch page, pending lines only (county)", f"{detail}?state=pending", admin),
        ("batch list (county)", reverse("batch_list"), admin),
        ("batch list page 40 (county)", reverse("batch_list") + "?page=40", admin),
        ("batch list (township officer)", reverse("batch_list"), officer),
        ("batch list, filtered by state (county)", reverse("batch_list") + "?state=closed", admin),
        (f"fund page ({movements:,} movements, ledger page 1)", funds, admin),
        (
            "fund page, ledger page 2000 (下一页 link)",
            f"{funds}?after={deep_ledger}&page=2000",
            admin,
        ),
        ("fund list", reverse("fund_list"), admin),
        ("entry list", reverse("entry_list"), admin),
        (f"一人一档 with {lines} aid lines (county)", person_page, admin),
        (f"一人一档 with {lines} aid lines (township officer)", person_page, officer),
    ]
