from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases import pii
from aidcases.models import Area, Person
from students.models import School

GRADE_SUGGESTIONS = [
    "一年级",
    "二年级",
    "三年级",
    "四年级",
    "五年级",
    "六年级",
    "初一",
    "初二",
    "初三",
    "高一",
    "高二",
    "高三",
    "中职一年级",
    "中职二年级",
    "中职三年级",
    "大一",
    "大二",
    "大三",
    "大四",
]
CONTACT_FREQUENCY_SUGGESTIONS = ["每天", "每周", "每月", "每学期", "每年", "很少联系"]

_textarea = forms.Textarea(attrs={"rows": 3})


class TownshipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return obj.name


class SchoolChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: School) -> str:
        stage = obj.get_stage_display()
        return f"{obj.name}（{stage}）" if stage else obj.name


# --- schools ----------------------------------------------------------------


class SchoolFilterForm(forms.Form):
    q = forms.CharField(label=_("学校名称"), required=False, max_length=100)
    township = TownshipChoiceField(
        label=_("乡(镇)"), queryset=Area.objects.none(), required=False, empty_label=_("全部乡(镇)")
    )
    stage = forms.ChoiceField(
        label=_("学段"), required=False, choices=[("", _("全部学段")), *School.Stage.choices]
    )

    def __init__(self, *args, townships: QuerySet[Area], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships


class SchoolForm(forms.Form):
    name = forms.CharField(label=_("学校名称"), max_length=100)
    township = TownshipChoiceField(label=_("所在乡(镇)"), queryset=Area.objects.none())
    stage = forms.ChoiceField(
        label=_("学段"),
        required=False,
        choices=[("", _("（按名称判断）")), *School.Stage.choices],
        help_text=_("留空时按名称判断：含“小学”为小学，含“中学/初中”为初中……"),
    )
    is_active = forms.BooleanField(
        label=_("启用"),
        required=False,
        initial=True,
        help_text=_("停用后不再出现在学校选择列表中，已有学生记录不受影响。"),
    )

    def __init__(self, *args, townships: QuerySet[Area], editing: School | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["township"].queryset = townships
        if editing is None:
            del self.fields["is_active"]
        elif townships.count() == 1:
            self.fields["township"].empty_label = None

    def clean_name(self) -> str:
        name = "".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError(_("请填写学校名称。"))
        return name

    def clean(self):
        data = super().clean()
        name, township = data.get("name"), data.get("township")
        if name and township:
            clash = School.objects.filter(area=township, name=name)
            if self.editing is not None:
                clash = clash.exclude(pk=self.editing.pk)
            if clash.exists():
                self.add_error(
                    "name",
                    _("%(township)s已有名为“%(name)s”的学校。")
                    % {"township": township.name, "name": name},
                )
        return data


# --- profiles ---------------------------------------------------------------


class MaskedPhoneField(forms.CharField):
    """A phone shown masked (138****5678): sent back unchanged it keeps the
    stored number, emptied it clears it, anything else must be a valid phone.
    The page never carries the number in clear (revealing is audited elsewhere)."""

    KEEP = object()

    def __init__(self, *, stored: str = "", **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 30)
        super().__init__(**kwargs)
        self.stored = stored
        self.masked = pii.mask_phone(stored) if stored else ""
        self.initial = self.masked

    def clean(self, value):
        value = super().clean(value)
        if self.stored and value == self.masked:
            return self.stored
        try:
            return pii.normalize_phone(value)
        except ValidationError as exc:
            raise ValidationError(exc.messages) from None


class _ProfileForm(forms.Form):
    school = SchoolChoiceField(
        label=_("就读学校"),
        queryset=School.objects.none(),
        required=False,
        empty_label=_("（请选择）"),
    )
    new_school_name = forms.CharField(
        label=_("或：新学校名称"),
        required=False,
        max_length=100,
        help_text=_("列表里没有的学校，在这里填写全称，保存时新增到本乡(镇)的学校名录。"),
    )
    grade = forms.CharField(
        label=_("年级"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"list": "grade-options", "autocomplete": "off"}),
    )

    def __init__(self, *args, schools: QuerySet[School], current_school: School | None, **kwargs):
        super().__init__(*args, **kwargs)
        if current_school is not None:
            # A school set earlier (another township, since deactivated) stays choosable.
            schools = School.objects.filter(pk__in=schools.values("pk")) | School.objects.filter(
                pk=current_school.pk
            )
        self.fields["school"].queryset = schools.order_by("stage", "name")

    def clean_new_school_name(self) -> str:
        return "".join(self.cleaned_data["new_school_name"].split())

    def clean(self):
        data = super().clean()
        if data.get("school") and data.get("new_school_name"):
            self.add_error(
                "new_school_name",
                _("请在“就读学校”中选择，或填写新学校名称，两项只填一项。"),
            )
        return data


class StudentProfileForm(_ProfileForm):
    class_name = forms.CharField(label=_("班级"), required=False, max_length=20)
    enrolment_year = forms.IntegerField(
        label=_("入学年份"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    student_number = forms.CharField(label=_("学籍号"), required=False, max_length=30)

    field_order = ["school", "new_school_name", "grade", "class_name", "enrolment_year"]

    def clean_enrolment_year(self) -> int | None:
        year = self.cleaned_data["enrolment_year"]
        this_year = timezone.localdate().year
        if year is not None and not (1950 <= year <= this_year + 1):
            raise ValidationError(
                _("入学年份应在1950年到%(max)d年之间。"), params={"max": this_year + 1}
            )
        return year

    def clean_student_number(self) -> str:
        return "".join(self.cleaned_data["student_number"].split()).upper()


class LeftBehindProfileForm(_ProfileForm):
    father_work_place = forms.CharField(label=_("父亲务工地"), required=False, max_length=100)
    mother_work_place = forms.CharField(label=_("母亲务工地"), required=False, max_length=100)
    parent_contact_frequency = forms.CharField(
        label=_("父母联系频率"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"list": "contact-options", "autocomplete": "off"}),
    )
    guardian_name = forms.CharField(label=_("监护人姓名"), required=False, max_length=50)
    guardian_relationship = forms.CharField(
        label=_("监护人与儿童关系"), required=False, max_length=20
    )
    guardian_age = forms.IntegerField(
        label=_("监护人年龄"),
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    guardian_health = forms.CharField(label=_("监护人健康状况"), required=False, max_length=50)
    teacher_name = forms.CharField(label=_("班主任"), required=False, max_length=50)
    knows_person = forms.CharField(label=_("个人情况（三知）"), required=False, widget=_textarea)
    knows_family = forms.CharField(label=_("家庭情况（三知）"), required=False, widget=_textarea)
    knows_study = forms.CharField(label=_("学习情况（三知）"), required=False, widget=_textarea)

    def __init__(self, *args, person: Person, teacher_phone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person
        phone_help = _("显示为部分隐藏；不修改请保持原样，清空即删除。")
        self.fields["guardian_phone"] = MaskedPhoneField(
            label=_("监护人电话"), stored=person.guardian_phone, help_text=phone_help
        )
        self.fields["teacher_phone"] = MaskedPhoneField(
            label=_("班主任电话"), stored=teacher_phone, help_text=phone_help
        )
        self.order_fields(
            [
                "school",
                "new_school_name",
                "grade",
                "father_work_place",
                "mother_work_place",
                "parent_contact_frequency",
                "guardian_name",
                "guardian_relationship",
                "guardian_phone",
                "guardian_age",
                "guardian_health",
                "teacher_name",
                "teacher_phone",
            ]
        )

    def clean_guardian_name(self) -> str:
        return "".join(self.cleaned_data["guardian_name"].split())

    def clean_guardian_age(self) -> int | None:
        age = self.cleaned_data["guardian_age"]
        if age is not None and not (10 <= age <= 120):
            raise ValidationError(_("监护人年龄应在10到120岁之间。"))
        return age

    def guardian_changed(self) -> bool:
        data = self.cleaned_data
        return (
            data["guardian_name"] != self.person.guardian_name
            or data["guardian_relationship"].strip() != self.person.guardian_relationship
            or data["guardian_phone"] != self.person.guardian_phone
        )
