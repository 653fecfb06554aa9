"""The columns of the beneficiary rosters (the common person columns; each category adds its
own) and their cell parsers."""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from aidcases import importing, pii
from aidcases.importing import CellError, Column
from aidcases.models import HARDSHIP_FLAGS, AidCase

# --- cell parsers -----------------------------------------------------------------------------


def id_number_cell(raw: Any) -> str:
    """Clean only (spaces, full-width digits, lower-case x, Excel's number cells); the row
    check validates with ``pii.parse_id_number`` so the message is pii's."""
    return pii.normalize_id_number(raw)


def phone_cell(raw: Any) -> str:
    """A mobile (13812345678) or a landline with its area code (0359-1234567)."""
    return pii.normalize_phone(raw)


_FLAG_ALIASES: dict[str, str] = {
    "建档立卡": "registered_poor",
    "建档立卡户": "registered_poor",
    "建档立卡贫困户": "registered_poor",
    "脱贫户": "registered_poor",
    "脱贫": "registered_poor",
    "低保": "dibao",
    "低保户": "dibao",
    "孤儿": "orphan",
    "事实无人抚养": "unsupported",
    "事实无人抚养儿童": "unsupported",
    "残疾": "disability",
    "因残": "disability",
    "重大疾病": "serious_illness",
    "大病": "serious_illness",
    "因病": "serious_illness",
    "受灾": "disaster",
    "因灾": "disaster",
    "单亲": "single_parent",
    "单亲家庭": "single_parent",
}
_NO_FLAGS = frozenset(("无", "没有", "无困难类型"))
_FLAG_SPLIT = re.compile(r"[,，、;；/\s+]+")


def hardship_flags(raw: Any) -> list[str]:
    """ "低保、残疾" → ["dibao", "disability"] (sorted); labels as HARDSHIP_FLAGS name them."""
    labels = {str(label): key for key, label in HARDSHIP_FLAGS}
    text = importing.text(raw)
    if text in _NO_FLAGS:
        return []  # said explicitly: none (a blank cell keeps what is on file)
    flags: set[str] = set()
    for part in _FLAG_SPLIT.split(text):
        if not part:
            continue
        key = _FLAG_ALIASES.get(part) or labels.get(part)
        if key is None:
            raise CellError(
                _("无法识别的困难类型“%(value)s”，可填：%(choices)s（多个用顿号隔开）")
                % {"value": part, "choices": "、".join(str(label) for _k, label in HARDSHIP_FLAGS)}
            )
        flags.add(key)
    return sorted(flags)


LEVEL = importing.choice(
    {
        str(AidCase.Level.SPECIAL.label): AidCase.Level.SPECIAL.value,
        str(AidCase.Level.HARD.label): AidCase.Level.HARD.value,
        str(AidCase.Level.GENERAL.label): AidCase.Level.GENERAL.value,
    }
)

# --- columns ----------------------------------------------------------------------------------

COMMON_COLUMNS: tuple[Column, ...] = (
    Column(
        "name",
        "姓名",
        ("学生姓名", "儿童姓名", "留守儿童姓名", "特困人员姓名", "供养对象姓名"),
        required=True,
        parse=importing.limited(50, importing.name),
        example="张小明",
    ),
    Column("gender", "性别", parse=importing.gender, example="男"),
    Column(
        "id_number",
        "身份证号码",
        ("身份证号", "公民身份号码", "身份证", "证件号码", "身份证件号码", "居民身份证号码"),
        parse=id_number_cell,
        example="149901201203150013",
        help="18位，最后一位可以是X；确实没有的，请在“无身份证原因”列说明",
    ),
    Column(
        "birth_date",
        "出生日期",
        ("出生年月", "生日", "出生年月日"),
        parse=importing.partial_date,
        example="2012-03-15",
        help="可写到月，如 2012.03",
    ),
    Column(
        "village",
        "所在村",
        (
            "村(社区)",
            "所在村(社区)",
            "村",
            "村名",
            "行政村",
            "所属村",
            "村居",
            "村组",
            "住址",
            "家庭住址",
            "家庭地址",
            "地址",
            "现住址",
        ),
        required=True,
        parse=importing.limited(200),
        example="南街村",
        help="本乡(镇)的村(社区)名称，也可以写详细地址（如 南街村三组）",
    ),
    Column(
        "phone",
        "联系电话",
        ("电话", "手机", "手机号", "手机号码", "联系方式"),
        parse=phone_cell,
        example="13812345678",
    ),
    Column("guardian_name", "监护人", ("监护人姓名",), parse=importing.limited(50, importing.name)),
    Column(
        "guardian_relationship",
        "与儿童关系",
        ("关系", "与本人关系", "与监护人关系", "监护人关系", "与学生关系", "监护关系"),
        parse=importing.limited(20),
    ),
    Column(
        "guardian_phone",
        "监护人联系电话",
        ("监护人电话", "监护人手机", "监护人手机号", "家长电话", "家长联系电话"),
        parse=phone_cell,
    ),
    Column("hardship_level", "认定等级", ("困难等级", "困难程度"), parse=LEVEL, example="比较困难"),
    Column(
        "flags",
        "困难类型",
        ("困难类别",),
        parse=hardship_flags,
        example="低保、残疾",
        help="可填多个，用顿号隔开",
    ),
    Column("notes", "备注", ("备注说明",), parse=importing.text),
    Column(
        "no_id_reason",
        "无身份证原因",
        ("无身份证号码原因", "无身份证号码的原因", "无证原因", "未办身份证原因"),
        parse=importing.limited(200),
    ),
)

PERSON_LABELS = {
    "name": "姓名",
    "gender": "性别",
    "birth_date": "出生日期",
    "id_number": "身份证号码",
    "phone": "联系电话",
    "area": "所在村",
    "address": "详细地址",
    "guardian_name": "监护人",
    "guardian_relationship": "与儿童关系",
    "guardian_phone": "监护人联系电话",
    "notes": "备注",
    "no_id_reason": "无身份证原因",
}
# person_clean's error keys → the column the message belongs to.
ERROR_COLUMNS = {**PERSON_LABELS, "area": "所在村", "address": "所在村"}
CASE_LABELS = {"hardship_level": "认定等级", "flags": "困难类型", "notes": "备注"}
