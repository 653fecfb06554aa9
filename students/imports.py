"""The 困难学生 and 留守儿童 rosters, registered with the hub's people import.

The hub (``aidcases.people.imports``) reads the common person columns and writes persons and
cases; this module adds the school columns and profile fields, finds schools by name within
the township (unknown ones are created at commit and announced in the preview), and writes
the profiles through this app's services. Imported from ``StudentsConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from aidcases import importing
from aidcases.importing import Column
from aidcases.models import AidCase, User
from aidcases.people import imports as hub
from students import services
from students.models import LeftBehindProfile, School, StudentProfile


def school_name(raw: Any) -> str:
    """A school's name as the students app keys it: no spaces at all."""
    return services.school_normalize_name(importing.text(raw))


SCHOOL_SYNONYMS = ("学校", "学校名称", "就读学校名称", "在读学校", "所在学校")


class SchoolProfileHandler(hub.ProfileHandler):
    """Profiles that name a school: the row's school name is resolved within the township."""

    def prepare(self, ctx: hub.Context) -> None:
        ctx.data["schools"] = {
            services.school_normalize_name(s.name): s
            for s in School.objects.filter(area=ctx.township)
        }
        ctx.data["new_schools"] = {}

    def current(self, case_ids: list[int]) -> dict[int, dict[str, Any]]:
        others = [name for name in self.fields if name != "school"]
        rows = self.model.objects.filter(case_id__in=case_ids).values(
            "case_id", "school_id", "school__name", *others
        )
        found = {}
        for row in rows:
            case_id = row.pop("case_id")
            school_id = row.pop("school_id")
            name = row.pop("school__name")
            found[case_id] = {
                **row,
                "school": services.school_normalize_name(name) if name else None,
                "_school_id": school_id,
            }
        return found

    def desired(self, ctx: hub.Context, values: dict[str, Any], current: dict | None) -> dict:
        desired = super().desired(ctx, values, current)
        name = desired.get("school")
        if name and name not in ctx.data["schools"] and name != (current or {}).get("school"):
            ctx.data["new_schools"][name] = None
        return desired

    def notes(self, ctx: hub.Context, *, done: bool) -> list[str]:
        names = list(ctx.data["new_schools"])
        if not names:
            return []
        label = _("新建学校") if done else _("将新建学校")
        return [_("%(label)s：%(names)s") % {"label": label, "names": "、".join(names)}]

    def audit_details(self, ctx: hub.Context) -> dict[str, Any]:
        return {"schools": list(ctx.data["new_schools"])}

    def before_commit(self, ctx: hub.Context, user: User) -> None:
        for name in ctx.data["new_schools"]:
            school, _created = services.school_get_or_create(
                acting_user=user, name=name, township=ctx.township
            )
            ctx.data["schools"][name] = school

    def model_values(self, ctx: hub.Context, desired: dict) -> dict:
        values = {name: desired.get(name) for name in self.fields}
        name = desired.get("school")
        school = ctx.data["schools"].get(name) if name else None
        if school is None and name and desired.get("_school_id"):
            # The school on file (possibly of another township) under the same name.
            school = School.objects.get(pk=desired["_school_id"])
        values["school"] = school
        return values


class StudentHandler(SchoolProfileHandler):
    model = StudentProfile
    fields = services.STUDENT_FIELDS
    labels = {
        "school": "就读学校",
        "grade": "年级",
        "class_name": "班级",
        "enrolment_year": "入学年份",
        "student_number": "学籍号",
    }

    def save(self, ctx: hub.Context, user: User, case: AidCase, desired: dict) -> None:
        services.student_profile_save(
            acting_user=user, case=case, **self.model_values(ctx, desired)
        )


class LeftBehindHandler(SchoolProfileHandler):
    model = LeftBehindProfile
    fields = services.LEFT_BEHIND_FIELDS
    labels = {
        "school": "就读学校",
        "grade": "年级",
        "father_work_place": "父亲务工地",
        "mother_work_place": "母亲务工地",
        "guardian_age": "监护人年龄",
        "guardian_health": "监护人健康状况",
        "teacher_name": "班主任",
        "teacher_phone": "班主任电话",
        "parent_contact_frequency": "父母联系频率",
    }

    def save(self, ctx: hub.Context, user: User, case: AidCase, desired: dict) -> None:
        services.left_behind_profile_save(
            acting_user=user, case=case, **self.model_values(ctx, desired)
        )


GRADE = Column(
    "grade", "年级", ("就读年级", "所在年级"), parse=importing.limited(20), example="三年级"
)

hub.register(
    AidCase.Category.STUDENT,
    title="困难学生花名册",
    columns=(
        Column(
            "school",
            "就读学校",
            SCHOOL_SYNONYMS,
            required=True,
            parse=importing.limited(100, school_name),
            example="城关镇中心小学",
            help="本乡(镇)的学校；系统中没有的学校会在导入时新建",
        ),
        GRADE,
        Column("class_name", "班级", ("所在班级",), parse=importing.limited(20), example="2班"),
        Column(
            "enrolment_year",
            "入学年份",
            ("入学年度", "入学时间", "入学年月"),
            parse=importing.year,
            example="2021",
        ),
        Column(
            "student_number",
            "学籍号",
            ("学籍号码", "全国学籍号", "学籍编号"),
            parse=importing.limited(30),
            help="请把该列设为“文本”格式",
        ),
    ),
    handler=StudentHandler(),
)

hub.register(
    AidCase.Category.LEFT_BEHIND,
    title="留守儿童花名册",
    columns=(
        Column(
            "school",
            "就读学校",
            SCHOOL_SYNONYMS,
            parse=importing.limited(100, school_name),
            example="城关镇中心小学",
            help="系统中没有的学校会在导入时新建",
        ),
        GRADE,
        Column(
            "father_work_place",
            "父亲务工地",
            ("父亲务工地点", "父亲外出务工地", "父亲外出务工地点", "父亲打工地点"),
            parse=importing.limited(100),
            example="山西太原",
        ),
        Column(
            "mother_work_place",
            "母亲务工地",
            ("母亲务工地点", "母亲外出务工地", "母亲外出务工地点", "母亲打工地点"),
            parse=importing.limited(100),
        ),
        Column("guardian_age", "监护人年龄", parse=importing.age, example="65"),
        Column(
            "guardian_health",
            "监护人健康状况",
            ("监护人身体状况",),
            parse=importing.limited(50),
            example="良好",
        ),
        Column(
            "teacher_name",
            "班主任",
            ("班主任姓名",),
            parse=importing.limited(50, importing.name),
        ),
        Column(
            "teacher_phone",
            "班主任电话",
            ("班主任联系电话", "班主任手机"),
            parse=hub.phone_cell,
        ),
        Column(
            "parent_contact_frequency",
            "父母联系频率",
            ("与父母联系频率", "联系频率", "亲子联系频率"),
            parse=importing.limited(50),
            example="每周一次",
        ),
    ),
    handler=LeftBehindHandler(),
)
