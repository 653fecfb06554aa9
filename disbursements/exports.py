"""The batch's two files: the 公示 list (public) and the payout list for the bank.

公示 shows exactly 序号, 姓名, 学校或村, 年级, 资助项目, 档次, 金额 with the publicity dates,
the objection phone and the issuer — never an ID number, phone, address, bank card, birth
date or the reason for hardship — and it is built from the line's lock-time snapshot only,
so nothing else of the person can slip in. Children under PUBLICITY_MASK_UNDER_AGE (by
their birth date at the publicity's start) appear as 张*涵.

Every download writes an audit event; a payout list with full ID numbers is a reveal and
is audited as one.

The 公示 file is made in the request: it holds seven short columns read from the lock-time
snapshot (no decryption, no joins), about a second for 5,000 lines. The payout list is a
background job of the hub (`batch_payout_export`): it decrypts an ID number per line, and
its file is kept behind the job system's checks (scope, reveal rights, expiry).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases import access, jobs, pii
from aidcases.audit import audit_log
from aidcases.models import Job, User
from aidcases.xlsx import Column, WorkbookWriter
from disbursements.models import AidBatch, AidLine

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STORED_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")


def mask_under_age() -> int:
    return int(getattr(settings, "PUBLICITY_MASK_UNDER_AGE", 14) or 0)


def age_on(birth: date | None, day: date) -> int | None:
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mask_name(name: str) -> str:
    """张*涵: first and last character kept; a two-character name becomes 张*."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def publicity_day(batch: AidBatch) -> date:
    return batch.publicity_starts or timezone.localdate()


def public_name(line: AidLine, day: date) -> str:
    """The name as the 公示 shows it: masked for a child under the configured age, and
    for anyone whose age is unknown while masking is on (when in doubt, protect)."""
    under = mask_under_age()
    if not under:
        return line.snap_name
    age = age_on(line.snap_birth_date, day)
    return mask_name(line.snap_name) if age is None or age < under else line.snap_name


@dataclass(frozen=True)
class PublicRow:
    seq: int
    name: str
    place: str
    grade: str
    programme: str
    level: str
    amount: Decimal


def publicity_lines(lines: QuerySet[AidLine]) -> QuerySet[AidLine]:
    return lines.exclude(state=AidLine.State.EXCLUDED).order_by("snap_village", "id")


def public_rows(batch: AidBatch, lines: Iterable[AidLine]) -> list[PublicRow]:
    """The only fields that leave for the notice board: built from the snapshot."""
    day = publicity_day(batch)
    programme = batch.programme.name
    return [
        PublicRow(
            seq=n,
            name=public_name(line, day),
            place=line.snap_school or line.snap_village,
            grade=line.snap_grade,
            programme=programme,
            level=line.snap_level,
            amount=line.amount,
        )
        for n, line in enumerate(lines, 1)
    ]


PUBLICITY_COLUMNS = [
    Column("序号", "seq", kind="int", width=6),
    Column("姓名", "name", width=10),
    Column("学校或村", "place", width=24),
    Column("年级", "grade", width=10),
    Column("资助项目", "programme", width=24, wrap=True),
    Column("档次", "level", width=10),
    Column("金额", "amount", kind="money", width=14),
]


def publicity_notes(batch: AidBatch) -> str:
    if batch.publicity_starts:
        starts, ends = batch.publicity_starts, batch.publicity_ends
        window = f"公示期：{starts:%Y年%-m月%-d日}至{ends:%Y年%-m月%-d日}"
    else:
        window = "公示期：待定"
    return (
        f"{window}；异议受理电话：{batch.publicity_phone or '待定'}；"
        f"公示单位：{batch.issuer or '待定'}"
    )


def publicity_xlsx(*, acting_user: User, batch: AidBatch, lines: QuerySet[AidLine]) -> bytes:
    rows = public_rows(batch, publicity_lines(lines))
    out = io.BytesIO()
    with WorkbookWriter(out) as book:
        sheet = book.sheet(
            "公示名单",
            columns=PUBLICITY_COLUMNS,
            title=f"{batch.name}公示名单（{publicity_notes(batch)}）",
        )
        sheet.write_many(rows)
    audit_log(
        actor=acting_user,
        verb="batch.publicity_export",
        obj=batch,
        details={"rows": len(rows)},
    )
    return out.getvalue()


# --- the payout list for the bank ------------------------------------------------------


def _masked_id(line: AidLine) -> str:
    person = line.person
    if not person.has_id_number:
        return ""
    try:
        number = pii.decrypt(person.id_number_encrypted)
    except pii.DecryptionError:
        return "*" * pii.ID_LENGTH
    if _STORED_ID_RE.match(number):
        hidden = pii.ID_LENGTH - 6 - pii.ID_TAIL_SHOWN
        return f"{number[:6]}{'*' * hidden}{number[-pii.ID_TAIL_SHOWN :]}"
    return pii.mask_id_number(number)


def _full_id(line: AidLine) -> str:
    person = line.person
    if not person.has_id_number:
        return ""
    try:
        return pii.decrypt(person.id_number_encrypted)
    except pii.DecryptionError:
        return "*" * pii.ID_LENGTH


def payout_columns(*, full_id: bool) -> list[Column]:
    return [
        Column("序号", "seq", kind="int", width=6),
        Column("收款人姓名", "line.snap_name", width=12),
        Column(
            "身份证号码" if full_id else "身份证号码（部分隐藏）",
            lambda r: _full_id(r["line"]) if full_id else _masked_id(r["line"]),
            width=22,
        ),
        Column("金额", "line.amount", kind="money", width=14),
        Column("村(社区)", "line.snap_village", width=16),
        Column("学校", "line.snap_school", width=20),
        Column("资助项目", "programme", width=22),
        Column("名单编号", lambda r: f"L{r['line'].pk}", width=12),
        Column("发放状态", lambda r: r["line"].get_state_display(), width=10),
        Column("凭证号/银行流水号", "line.voucher", width=20),
    ]


# Batches whose payout list exists: released and after.
PAYOUT_STATES = (
    AidBatch.State.RELEASED,
    AidBatch.State.PAID,
    AidBatch.State.RECONCILED,
    AidBatch.State.CLOSED,
)


def payout_xlsx(
    *,
    acting_user: User,
    batch: AidBatch,
    lines: QuerySet[AidLine],
    out: IO[bytes],
    progress: jobs.Progress | None = None,
) -> int:
    """Write the payout list to `out` (streaming, constant memory); returns its rows."""
    full_id = acting_user.has_perm("aidcases.reveal_id_number")
    queryset = (
        lines.exclude(state=AidLine.State.EXCLUDED)
        .select_related("person")
        .order_by("snap_village", "id")
    )
    total = queryset.count()
    if progress is not None:
        progress(0, total, "正在导出发放名单")
    programme = batch.programme.name
    title = f"{batch.name}发放名单（导出时间 {timezone.localtime():%Y-%m-%d %H:%M}）"
    if full_id:
        title += " 含完整身份证号码，注意保密"
    with WorkbookWriter(out, landscape=True) as book:
        sheet = book.sheet("发放名单", columns=payout_columns(full_id=full_id), title=title)
        count = sheet.write_many(
            (
                {"seq": n, "line": line, "programme": programme}
                for n, line in enumerate(queryset.iterator(chunk_size=2000), 1)
            ),
            progress=(lambda n: progress(n, total)) if progress is not None else None,
        )
    audit_log(
        actor=acting_user,
        verb="batch.payout_reveal" if full_id else "batch.payout_export",
        obj=batch,
        details={"rows": count, "full_id": full_id},
    )
    return count


@jobs.register(
    "batch_payout_export", label=_("导出发放名单"), permission="disbursements.view_money"
)
def payout_job(*, job: Job, out: IO[bytes], progress: jobs.Progress) -> str:
    """The payout list as a background job (a batch may hold thousands of lines, each ID
    decrypted): made with the requester's scope and reveal rights as they are now."""
    user = job.requested_by
    batch = (
        AidBatch.objects.filter(access.scope_q(AidBatch, user), pk=job.params.get("batch"))
        .select_related("programme")
        .first()
    )
    if batch is None or not user.has_perm("disbursements.view_money"):
        raise ValidationError(_("找不到该资助批次，或您已无权导出其发放名单。"))
    if batch.state not in PAYOUT_STATES:
        raise ValidationError(_("下达发放后才能导出发放名单。"))
    lines = AidLine.objects.filter(access.scope_q(AidLine, user), batch=batch)
    payout_xlsx(acting_user=user, batch=batch, lines=lines, out=out, progress=progress)
    return f"发放名单_{batch.pk}_{timezone.localdate():%Y%m%d}.xlsx"
