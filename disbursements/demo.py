"""Demo data of the money app, so that every money screen shows something: funding sources
of every kind, three funds with posted income (and one draft entry), goods in kind given to
village schools and to 特困 persons, two programmes (a per-term student grant and a monthly
特困 allowance), and batches in different states — last spring's grants paid (one line
failed), this autumn's in 公示, and this month's allowance still a draft.

Everything goes through the services (audited), by the demo accounts of each role: county
staff create, verify, publish and pay, the township officers nominate, the approver approves.
One shortcut: the paid batch's 公示 window is moved into the past (the service only opens one
from today), so that it can be released now. Runs once: when the demo fund exists, it does
nothing.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from aidcases.models import AidCase, User
from aidcases.seeding import register
from disbursements import services
from disbursements.models import AidBatch, AidProgramme, Fund, FundingSource
from disbursements.services import FundEntryData, GoodsData, ProgrammeData
from disbursements.workdays import working_days_end

COUNTY_PATH = "/149901/"
STUDENT_FUND = "爱心助学基金"
ISSUER = "共青团青山县委员会"
PHONE = "0350-6021234"

SOURCES = [
    ("charity", "青山县慈善总会", True),
    ("individual", "王先生", False),
    ("enterprise", "青山县晋阳建材有限公司", True),
    ("allocation", "共青团忻州市委员会", True),
    ("union", "青山县总工会（金秋助学）", True),
    ("online", "腾讯公益“助学圆梦”网络募捐", True),
]
# (source, fund, amount, receipt state, document number)
ENTRIES = [
    ("青山县慈善总会", STUDENT_FUND, "200000", "issued", "青慈收〔2026〕15号"),
    ("青山县晋阳建材有限公司", STUDENT_FUND, "50000", "issued", "SJ-2026-0031"),
    ("王先生", STUDENT_FUND, "5000", "anonymous", ""),
    ("青山县总工会（金秋助学）", "金秋助学专项资金", "80000", "issued", "青工发〔2026〕8号"),
    ("共青团忻州市委员会", "特困人员关爱资金", "60000", "not_needed", "忻团字〔2026〕21号"),
]
DRAFT_ENTRY = ("腾讯公益“助学圆梦”网络募捐", STUDENT_FUND, "12345.60", "issued", "")
SCHOOLS = ["城关第一小学", "河西小学", "石嘴小学", "东冶小学", "白家庄小学"]


def _staff(role: str, preferred: str) -> User | None:
    users = User.objects.filter(role=role, is_active=True)
    return users.filter(username=preferred).first() or users.order_by("pk").first()


@register("money", order=40)
def seed_money(admin: User, rng: random.Random) -> str:
    if Fund.objects.filter(name=STUDENT_FUND).exists():
        return "资金发放：已有演示数据，跳过。"
    county = _staff(User.Role.COUNTY_STAFF, "county")
    approver = _staff(User.Role.APPROVER, "approver")
    if county is None or approver is None:
        return "资金发放：没有县级工作人员或审批人账号，跳过。"
    officers = list(
        User.objects.filter(
            role=User.Role.TOWNSHIP_OFFICER, is_active=True, area__path__startswith=COUNTY_PATH
        ).order_by("username")
    )
    with transaction.atomic():
        return _seed(rng, county=county, approver=approver, officers=officers or [county])


def _seed(rng: random.Random, *, county: User, approver: User, officers: list[User]) -> str:
    today = timezone.localdate()
    sources = {
        name: services.funding_source_create(
            acting_user=county,
            kind=kind,
            name=name,
            contact_name="刘会计" if kind != "individual" else "",
            publish_name=publish,
        )
        for kind, name, publish in SOURCES
    }
    funds = {
        STUDENT_FUND: services.fund_create(
            acting_user=county, name=STUDENT_FUND, purpose="资助困难学生完成学业"
        ),
        "金秋助学专项资金": services.fund_create(
            acting_user=county, name="金秋助学专项资金", purpose="工会金秋助学"
        ),
        "特困人员关爱资金": services.fund_create(
            acting_user=county, name="特困人员关爱资金", purpose="特困人员生活补助与节日慰问"
        ),
    }
    received = today - timedelta(days=200)
    for n, (source, fund, amount, receipt, document) in enumerate(ENTRIES):
        entry = services.fund_entry_create(
            acting_user=county,
            data=FundEntryData(
                source=sources[source],
                fund=funds[fund],
                amount=Decimal(amount),
                received_on=received + timedelta(days=7 * n),
                document_number=document,
                receipt_state=receipt,
            ),
        )
        services.fund_entry_post(acting_user=county, entry=entry)
    source, fund, amount, receipt, _document = DRAFT_ENTRY
    services.fund_entry_create(
        acting_user=county,
        data=FundEntryData(
            source=sources[source],
            fund=funds[fund],
            amount=Decimal(amount),
            received_on=today - timedelta(days=2),
            receipt_state=receipt,
            notes="待核对到账流水",
        ),
    )
    goods = _seed_goods(sources, county=county, today=today)

    student = services.programme_save(
        acting_user=county,
        data=ProgrammeData(
            name="困难学生助学金",
            kind=AidProgramme.Kind.STUDENT,
            mode=AidProgramme.Mode.PER_TERM,
            standard_amounts={
                "special": Decimal("1000"),
                "hard": Decimal("800"),
                "general": Decimal("500"),
                "": Decimal("500"),
            },
            categories=[AidCase.Category.STUDENT],
            yearly_cap=Decimal("2000"),
            funds=[funds[STUDENT_FUND], funds["金秋助学专项资金"]],
            bands=[(Decimal("50000"), 2)],
        ),
    )
    tekun = services.programme_save(
        acting_user=county,
        data=ProgrammeData(
            name="特困人员生活补助",
            kind=AidProgramme.Kind.TEKUN,
            mode=AidProgramme.Mode.MONTHLY,
            months=12,
            standard_amounts={
                "special": Decimal("300"),
                "hard": Decimal("200"),
                "general": Decimal("150"),
                "": Decimal("150"),
            },
            categories=[AidCase.Category.TEKUN],
            funds=[funds["特困人员关爱资金"]],
        ),
    )

    year = today.year
    students = _cases(AidCase.Category.STUDENT, officers)
    paid = _batch(
        county,
        student,
        funds[STUDENT_FUND],
        name=f"{year}年春季学期困难学生助学金",
        school_year=year - 1,
        term=AidBatch.Term.SPRING,
    )
    _nominate(paid, students[:12])
    _to_publicity(paid, county=county, approver=approver, today=today)
    # The shortcut: last spring's notice, already over.
    starts = today - timedelta(days=30)
    AidBatch.objects.filter(pk=paid.pk).update(
        publicity_starts=starts, publicity_ends=working_days_end(starts, 5)
    )
    paid.refresh_from_db()
    services.batch_release(acting_user=county, batch=paid)
    lines = list(paid.lines.order_by("pk"))
    for n, line in enumerate(lines):
        if n == len(lines) - 1:
            services.line_mark_failed(acting_user=county, line=line, reason="银行账户已注销")
        else:
            services.line_mark_paid(
                acting_user=county,
                line=line,
                paid_on=today - timedelta(days=3),
                method="bank",
                voucher=f"YH{year}0315{n + 1:04d}",
            )

    autumn = _batch(
        county,
        student,
        funds[STUDENT_FUND],
        name=f"{year}年秋季学期困难学生助学金",
        school_year=year,
        term=AidBatch.Term.AUTUMN,
    )
    _nominate(autumn, students[12:30])
    _to_publicity(autumn, county=county, approver=approver, today=today)

    monthly = _batch(
        county,
        tekun,
        funds["特困人员关爱资金"],
        name=f"{today:%Y年%-m月}特困人员生活补助",
        school_year=year,
        month=today.replace(day=1),
    )
    _nominate(monthly, _cases(AidCase.Category.TEKUN, officers)[:10])

    return (
        f"资金发放：新增资金来源 {len(sources)} 个、专项资金 {len(funds)} 项、"
        f"捐赠物资 {goods} 批、资助项目 2 个、批次 3 个（已发放、公示中、草稿）。"
    )


def _seed_goods(sources: dict[str, FundingSource], *, county: User, today: date) -> int:
    books = services.goods_receive(
        acting_user=county,
        data=GoodsData(
            source=sources["青山县晋阳建材有限公司"],
            item="课外读物",
            quantity=Decimal("3000"),
            unit="册",
            unit_value=Decimal("50"),
            received_on=today - timedelta(days=120),
            notes="赠村小图书角",
        ),
    )
    for school in SCHOOLS:
        services.goods_distribute(
            acting_user=county,
            donation=books,
            quantity=Decimal("500"),
            given_on=today - timedelta(days=100),
            school_name=school,
        )
    coats = services.goods_receive(
        acting_user=county,
        data=GoodsData(
            source=sources["青山县慈善总会"],
            item="冬衣",
            quantity=Decimal("200"),
            unit="件",
            unit_value=Decimal("120"),
            received_on=today - timedelta(days=20),
        ),
    )
    tekun = (
        AidCase.objects.filter(
            category=AidCase.Category.TEKUN,
            status=AidCase.Status.OPEN,
            person__area__path__startswith=COUNTY_PATH,
        )
        .select_related("person")
        .order_by("pk")[:6]
    )
    for case in tekun:
        services.goods_distribute(
            acting_user=county,
            donation=coats,
            quantity=Decimal("1"),
            given_on=today - timedelta(days=10),
            person=case.person,
        )
    return 2


def _cases(category: str, officers: list[User]) -> list[tuple[User, AidCase]]:
    """Open cases of the demo county in the townships that have an officer, each with that
    officer as nominator (or, without officers, the county's)."""
    by_township: dict[str, User] = {}
    for officer in officers:
        if officer.area_id:
            by_township[officer.area.path] = officer
    picked = []
    cases = (
        AidCase.objects.filter(
            category=category,
            status=AidCase.Status.OPEN,
            person__area__path__startswith=COUNTY_PATH,
            person__is_active=True,
        )
        .select_related("person__area")
        .order_by("pk")
    )
    for case in cases:
        township = next(
            (u for path, u in by_township.items() if case.person.area.path.startswith(path)), None
        )
        if township is not None:
            picked.append((township, case))
    if len(picked) < 10:  # no township officers: the county nominates
        return [(officers[0], case) for case in cases[:40]]
    # taking turns between the townships, so every officer's list has lines in each batch
    queues: dict[int, list[tuple[User, AidCase]]] = {}
    for officer, case in picked:
        queues.setdefault(officer.pk, []).append((officer, case))
    mixed = []
    while any(queues.values()):
        for queue in queues.values():
            if queue:
                mixed.append(queue.pop(0))
    return mixed


def _batch(county: User, programme, fund, **fields) -> AidBatch:
    return services.batch_create(acting_user=county, programme=programme, fund=fund, **fields)


def _nominate(batch: AidBatch, cases: list[tuple[User, AidCase]]) -> None:
    for officer, case in cases:
        services.line_add(acting_user=officer, batch=batch, case=case, reason="家庭经济困难")


def _to_publicity(batch: AidBatch, *, county: User, approver: User, today: date) -> None:
    services.batch_start_verification(acting_user=county, batch=batch)
    methods = ["home", "phone", "documents"]
    for n, line in enumerate(batch.lines.order_by("pk")):
        services.line_verify(acting_user=county, line=line, method=methods[n % 3], note="情况属实")
    services.batch_lock(acting_user=county, batch=batch)
    services.batch_submit(acting_user=county, batch=batch)
    # the demo batches stay under the band that asks for a second approval
    services.batch_approve(acting_user=approver, batch=batch, comment="同意")
    services.batch_start_publicity(
        acting_user=county, batch=batch, starts=today, phone=PHONE, issuer=ISSUER
    )
