"""Excel export of the people list, run as a job ("people_export").

The job re-applies the list's FilterSet to `selectors.people_for(user=requester)`
when it runs, so the scope is the requester's scope at run time (a user moved
to another township since does not get the old township's people). ID numbers
and phones are masked unless the job asked for them in full *and* the
requester may still reveal them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from typing import IO

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases import jobs, pii, selectors
from aidcases.audit import audit_log
from aidcases.models import HARDSHIP_FLAGS, AidCase, Area, Job, Person
from aidcases.people.filters import PersonFilter, with_export_columns
from aidcases.xlsx import Column, export_rows

CATEGORY_ORDER = {value: i for i, value in enumerate(AidCase.Category.values)}
LEVEL_ORDER = {value: i for i, value in enumerate(AidCase.Level.values)}
FLAG_ORDER = {value: i for i, (value, _label) in enumerate(HARDSHIP_FLAGS)}


# Stored values are already normalised by the services, so the common shapes
# are masked without re-parsing (pii.mask_* parse again: ~0.3 ms a row, which
# is minutes at 200,000 rows); anything unusual still goes through pii.
_STORED_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")
_STORED_MOBILE_RE = re.compile(r"^1[0-9]{10}$")


def _mask_id(number: str) -> str:
    if _STORED_ID_RE.match(number):
        hidden = pii.ID_LENGTH - 6 - pii.ID_TAIL_SHOWN
        return f"{number[:6]}{'*' * hidden}{number[-pii.ID_TAIL_SHOWN :]}"
    return pii.mask_id_number(number)


def _mask_phone(phone: str) -> str:
    if not phone:
        return ""
    if _STORED_MOBILE_RE.match(phone):
        return f"{phone[:3]}****{phone[-4:]}"
    return pii.mask_phone(phone)


def _age(birth: date | None, today: date) -> int | None:
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _village(row: dict) -> str:
    # Hamlets and groups are shown under their village.
    if row["area__level"] in (Area.Level.HAMLET, Area.Level.GROUP) and row["area__parent__name"]:
        return f"{row['area__parent__name']}{row['area__name']}"
    return row["area__name"]


def _id_text(row: dict, *, full: bool) -> str:
    if not row["id_number_encrypted"]:
        reason = row["no_id_reason"]
        return f"无（{reason}）" if reason else "无"
    try:
        number = pii.decrypt(row["id_number_encrypted"])
    except pii.DecryptionError:
        return "*" * pii.ID_LENGTH
    return number if full else _mask_id(number)


def _labels(values, names: dict, order: dict) -> str:
    seen = sorted({v for v in values or [] if v}, key=lambda v: (order.get(v, 99), v))
    return "、".join(names.get(v, v) for v in seen)


def columns(*, full_id: bool, full_phone: bool) -> list[Column]:
    today = timezone.localdate()
    # Plain strings once, not a lazy translation per cell.
    genders = {k: str(v) for k, v in Person.Gender.choices}
    categories = {k: str(v) for k, v in AidCase.Category.choices}
    levels = {k: str(v) for k, v in AidCase.Level.choices}
    flags = {k: str(v) for k, v in HARDSHIP_FLAGS}
    if full_id:
        birth = [
            Column("出生日期", "birth_date", kind="date"),
            Column("年龄", lambda r: _age(r["birth_date"], today), kind="int", width=6),
        ]
    else:
        # Beside a masked ID only the birth year (pii's display policy): a full
        # date or an age there would let the file rebuild the numbers.
        birth = [
            Column(
                "出生年份",
                lambda r: r["birth_date"].year if r["birth_date"] else None,
                kind="int",
                width=8,
            )
        ]
    return [
        Column("序号", "seq", kind="int", width=6),
        Column("姓名", "name", width=10),
        Column("性别", lambda r: genders.get(r["gender"], ""), width=6),
        *birth,
        Column("身份证号码", lambda r: _id_text(r, full=full_id), width=22),
        Column("乡(镇)", "township_name", width=12),
        Column("村(社区)", _village, width=14),
        Column(
            "帮扶类别",
            lambda r: _labels(r["open_categories"], categories, CATEGORY_ORDER),
            width=18,
        ),
        Column("认定等级", lambda r: _labels(r["open_levels"], levels, LEVEL_ORDER), width=10),
        Column("困难类型", lambda r: _labels(r["open_flags"], flags, FLAG_ORDER), width=20),
        Column(
            "联系电话",
            lambda r: (
                r["phone"] if full_phone else pii.mask_phone(r["phone"]) if r["phone"] else ""
            ),
            width=14,
        ),
    ]


def _numbered(rows) -> Iterator[dict]:
    for n, row in enumerate(rows, 1):
        row["seq"] = n
        yield row


def _filters_querydict(filters: dict) -> QueryDict:
    data = QueryDict(mutable=True)
    for key, values in (filters or {}).items():
        data.setlist(key, [str(v) for v in (values if isinstance(values, list) else [values])])
    return data


@jobs.register("people_export", label=_("导出帮扶对象名单"), permission="aidcases.export_people")
def export_people(*, job: Job, out: IO[bytes], progress: jobs.Progress) -> str:
    user = job.requested_by
    filters = job.params.get("filters", {})
    # Permissions are checked again now: a role may have changed since the click.
    full_id = bool(job.params.get("full")) and user.has_perm("aidcases.reveal_id_number")
    full_phone = full_id and user.has_perm("aidcases.reveal_phone")
    filterset = PersonFilter(
        _filters_querydict(filters), queryset=selectors.people_for(user=user), user=user
    )
    queryset = filterset.qs  # empty when a filter value is no longer in the user's scope
    total = queryset.count()
    progress(0, total, "正在导出帮扶对象名单")
    now = timezone.localtime()
    scope = user.area.name if user.area_id and not user.is_county_level else "全部"
    title = f"帮扶对象名单（{scope}，共{total}人，导出时间 {now:%Y-%m-%d %H:%M}）"
    if full_id:
        title += " 含完整身份证号码，注意保密"
    count = export_rows(
        out,
        sheet_name="帮扶对象",
        columns=columns(full_id=full_id, full_phone=full_phone),
        rows=_numbered(with_export_columns(queryset).iterator(chunk_size=2000)),
        title=title,
        landscape=True,
        progress=lambda n: progress(n, total),
    )
    audit_log(
        actor=user,
        verb="person.export",
        obj=job,
        area=user.area,
        details={
            "rows": count,
            "filters": filters,
            "full_id_and_phone": full_id,
        },
    )
    return f"帮扶对象名单_{now:%Y%m%d_%H%M}.xlsx"
