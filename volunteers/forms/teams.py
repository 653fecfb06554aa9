"""Forms: teams, volunteers, memberships, activities."""

from __future__ import annotations

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases.areapicker import AreaPickerField
from aidcases.models import Area, User
from volunteers.models import Activity, Membership, Team, Volunteer
from volunteers.services.activities import MAX_PHOTOS

_date = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_time = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class AreaChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        return obj.name


class AreaMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Area) -> str:
        parent = obj.parent.name if obj.parent_id and obj.level != Area.Level.TOWNSHIP else ""
        return f"{parent} {obj.name}".strip()


class LeaderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        name = obj.full_name or obj.username
        return f"{name}（{obj.area.name if obj.area_id else '—'}）"


class VolunteerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Volunteer) -> str:
        return obj.name


# --- filters ---------------------------------------------------------------------------------


class TeamFilterForm(forms.Form):
    q = forms.CharField(label=_("服务队名称"), required=False, max_length=100)
    township = AreaChoiceField(
        label=_("乡(镇)"), queryset=Area.objects.none(), required=False, empty_label=_("全部乡(镇)")
    )
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("全部类型")), *Team.Kind.choices]
    )

    def __init__(self, *args, townships: QuerySet[Area], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships


class VolunteerFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名或拼音首字母"), required=False, max_length=50)
    township = AreaChoiceField(
        label=_("乡(镇)"), queryset=Area.objects.none(), required=False, empty_label=_("全部乡(镇)")
    )
    kind = forms.ChoiceField(
        label=_("类别"), required=False, choices=[("", _("全部类别")), *Volunteer.Kind.choices]
    )

    def __init__(self, *args, townships: QuerySet[Area], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships


# --- teams -----------------------------------------------------------------------------------


class TeamForm(forms.Form):
    name = forms.CharField(label=_("服务队名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=Team.Kind.choices)
    area = AreaPickerField(
        label=_("所属区域"),
        levels=(Area.Level.COUNTY, Area.Level.TOWNSHIP, Area.Level.VILLAGE),
        help_text=_("服务队所属的乡(镇)或村；乡镇专干按此区域管理服务队。"),
    )
    leader = LeaderChoiceField(
        label=_("队长账号"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("（暂不指定）"),
        help_text=_("“服务队队长”角色的用户；队长登录后只能看到自己带领的服务队。"),
    )
    areas_covered = AreaMultipleChoiceField(
        label=_("服务区域"),
        queryset=Area.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
        help_text=_("服务队走访、服务的村(社区)，可多选（按住 Ctrl 或在手机上直接点选）。"),
    )
    issuing_organisation = forms.CharField(
        label=_("组建单位"), max_length=100, required=False, help_text=_("证书上署名的单位")
    )
    is_active = forms.BooleanField(label=_("在册"), required=False, initial=True)

    def __init__(
        self,
        *args,
        areas: QuerySet[Area],
        covered: QuerySet[Area],
        leaders: QuerySet[User],
        editing: bool = False,
        leader_locked: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        self.fields["areas_covered"].queryset = covered
        self.fields["leader"].queryset = leaders
        if not editing:
            del self.fields["is_active"]
        if leader_locked:
            self.fields["area"].disabled = True
            self.fields["leader"].disabled = True


# --- volunteers ------------------------------------------------------------------------------


class VolunteerForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(
        label=_("性别"), required=False, choices=[("", "—"), *Volunteer.Gender.choices]
    )
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=_date)
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("手机号码，或带区号的固定电话。"),
    )
    kind = forms.ChoiceField(label=_("志愿者类别"), choices=Volunteer.Kind.choices)
    university = forms.CharField(
        label=_("就读高校"), max_length=100, required=False, help_text=_("返乡大学生填写")
    )
    major = forms.CharField(label=_("专业"), max_length=100, required=False)
    area = AreaPickerField(
        label=_("所在区域"),
        levels=(Area.Level.COUNTY, Area.Level.TOWNSHIP, Area.Level.VILLAGE, Area.Level.HAMLET),
    )
    skills = forms.CharField(
        label=_("特长"), max_length=200, required=False, help_text=_("如：书法、辅导数学、理发")
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        help_text=_("选填，仅在需要开具证书时填写；保存后不再显示。"),
    )
    guardian_name = forms.CharField(label=_("监护人姓名"), max_length=50, required=False)
    guardian_consent_on = forms.DateField(label=_("监护人同意日期"), required=False, widget=_date)
    guardian_consent_how = forms.CharField(
        label=_("同意方式"),
        max_length=100,
        required=False,
        help_text=_("未满18周岁的志愿者须有监护人同意，如：签署同意书、电话确认"),
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    # Only when registering: join a team at once (a team leader always does).
    team = forms.ModelChoiceField(
        label=_("加入服务队"), queryset=Team.objects.none(), required=False,
        empty_label=_("（暂不加入）"),
    )  # fmt: skip
    role = forms.ChoiceField(
        label=_("队内职务"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER,
        required=False,
    )  # fmt: skip
    started_on = forms.DateField(
        label=_("加入日期"), required=False, widget=_date, initial=timezone.localdate
    )

    def __init__(
        self,
        *args,
        areas: QuerySet[Area],
        teams: QuerySet[Team] | None = None,
        team_required: bool = False,
        has_id_number: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = areas
        if teams is None:
            for name in ("team", "role", "started_on"):
                del self.fields[name]
        else:
            self.fields["team"].queryset = teams
            self.fields["team"].required = team_required
        if has_id_number:
            self.fields["id_number"].help_text = _(
                "已登记（不显示）；如需更正，填写新的号码，留空则保持不变。"
            )

    def clean(self):
        data = super().clean()
        if data.get("team") and not data.get("role"):
            data["role"] = Membership.Role.MEMBER
        return data


# --- memberships -----------------------------------------------------------------------------


class MembershipAddForm(forms.Form):
    volunteer = forms.ModelChoiceField(
        label=_("志愿者"),
        queryset=Volunteer.objects.none(),
        empty_label=_("—请选择—"),
        help_text=_(
            "列出本队所在乡(镇)的志愿者；其他人请先按姓名查找。名单中没有的，请先“登记新队员”。"
        ),
    )
    role = forms.ChoiceField(
        label=_("队内职务"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )
    started_on = forms.DateField(label=_("加入日期"), widget=_date, initial=timezone.localdate)

    def __init__(self, *args, volunteers: QuerySet[Volunteer], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = volunteers

    def offer(self, volunteers) -> None:
        """The choices the page lists (a few hundred at most), once the posted choice was
        checked against every volunteer the user may add."""
        self.fields["volunteer"].queryset = volunteers


class MembershipEndForm(forms.Form):
    ended_on = forms.DateField(label=_("退出日期"), widget=_date, initial=timezone.localdate)


# --- activities ------------------------------------------------------------------------------


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/*", "multiple": True})
        )
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ActivityForm(forms.Form):
    date = forms.DateField(label=_("活动日期"), widget=_date, initial=timezone.localdate)
    starts_at = forms.TimeField(label=_("开始时间"), required=False, widget=_time)
    ends_at = forms.TimeField(
        label=_("结束时间"), required=False, widget=_time,
        help_text=_("填写起止时间后，计入参与志愿者的服务时长。"),
    )  # fmt: skip
    kind = forms.ChoiceField(label=_("活动类型"), choices=Activity.Kind.choices)
    place = forms.CharField(label=_("活动地点"), max_length=200, required=False)
    content = forms.CharField(label=_("活动内容"), widget=forms.Textarea(attrs={"rows": 4}))
    people_served = forms.IntegerField(label=_("服务人数"), required=False, min_value=0)
    participants = VolunteerChoiceField(
        label=_("参与志愿者"),
        queryset=Volunteer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    backfill_reason = forms.CharField(
        label=_("补录原因"),
        max_length=200,
        required=False,
        help_text=_("活动日期在%(days)d天以前的，属于补录，须说明原因。")
        % {"days": Activity.BACKFILL_DAYS},
    )
    photos = MultipleImageField(
        label=_("活动照片"),
        required=False,
        help_text=_("可一次选择多张（最多%(n)d张），可直接用手机拍照；照片中的位置信息会被去除。")
        % {"n": MAX_PHOTOS},
    )

    def __init__(self, *args, members: QuerySet[Volunteer], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = members
