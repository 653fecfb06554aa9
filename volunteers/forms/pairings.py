"""Forms: pairings. They only read what was typed; the rules are the services'."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases.models import AidCase
from volunteers.models import Pairing

__all__ = [
    "CancelForm",
    "ConfirmPersonForm",
    "ConfirmVolunteersForm",
    "EndForm",
    "PairingFilterForm",
    "PairingProposeForm",
    "SetVolunteersForm",
    "WORKLIST_TABS",
]

_date = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")

WORKLIST_TABS = (
    ("unpaired", _("待结对对象")),
    ("unconfirmed", _("超期未确认")),
    ("all", _("全部结对")),
)

HOW_CHOICES = (
    ("当面", _("当面")),
    ("电话", _("电话")),
    ("视频", _("视频")),
    ("书面", _("书面（签字）")),
    ("其他", _("其他")),
)


class _VolunteersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class PairingFilterForm(forms.Form):
    tab = forms.ChoiceField(choices=WORKLIST_TABS, required=False)
    q = forms.CharField(label=_("姓名"), required=False, max_length=40)
    township = forms.ModelChoiceField(queryset=None, required=False, empty_label=_("全部乡(镇)"))
    category = forms.ChoiceField(
        label=_("类别"),
        required=False,
        choices=[
            ("", _("全部类别")),
            (AidCase.Category.TEKUN, AidCase.Category.TEKUN.label),
            (AidCase.Category.LEFT_BEHIND, AidCase.Category.LEFT_BEHIND.label),
        ],
    )
    state = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部状态")), *Pairing.State.choices]
    )
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label=_("全部服务队"))

    def __init__(self, *args, townships, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships
        self.fields["team"].queryset = teams


class _VolunteersAndLeadForm(forms.Form):
    """The volunteers of a pairing and its lead, chosen among the team's current members
    (the propose form and the change-volunteers form)."""

    volunteers = _VolunteersField(
        label=_("结对志愿者"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("请至少选择一名结对志愿者。"),
            "invalid_choice": _("所选志愿者不是该队的在队队员。"),
        },
    )
    lead = forms.ModelChoiceField(
        label=_("主责志愿者"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请指定一名主责志愿者。"),
            "invalid_choice": _("主责志愿者须是该队的在队队员。"),
        },
    )

    def set_members(self, members) -> None:
        self.fields["volunteers"].queryset = members
        self.fields["lead"].queryset = members


class PairingProposeForm(_VolunteersAndLeadForm):
    field_order = ["case", "team", "volunteers", "lead", "proposed_on"]

    case = forms.ModelChoiceField(
        label=_("帮扶对象"),
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("请先选择帮扶对象。"),
            "invalid_choice": _("所选对象不在可结对的名单中。"),
        },
    )
    team = forms.ModelChoiceField(
        label=_("服务队"),
        queryset=None,
        widget=forms.HiddenInput,
        error_messages={
            "required": _("请先选择服务队。"),
            "invalid_choice": _("所选服务队不在您可管理的范围内。"),
        },
    )
    proposed_on = forms.DateField(label=_("提出日期"), widget=_date)

    def __init__(self, *args, cases, teams, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = cases
        self.fields["team"].queryset = teams
        self.set_members(members)
        self.fields["proposed_on"].initial = timezone.localdate()


class ConfirmVolunteersForm(forms.Form):
    confirmed_on = forms.DateField(label=_("志愿者确认日期"), widget=_date)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed_on"].initial = timezone.localdate()


class ConfirmPersonForm(forms.Form):
    who = forms.ChoiceField(
        label=_("确认人"),
        choices=[("本人", _("本人")), ("监护人", _("监护人"))],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择由本人还是监护人确认。")},
    )
    name = forms.CharField(
        label=_("确认人姓名"),
        max_length=40,
        error_messages={"required": _("请填写确认人的姓名。")},
    )
    how = forms.ChoiceField(
        label=_("确认方式"),
        choices=HOW_CHOICES,
        error_messages={"required": _("请选择确认方式。")},
    )
    how_note = forms.CharField(
        label=_("方式说明"),
        max_length=60,
        required=False,
        help_text=_("选“其他”时请说明，如：村委会转达"),
    )
    confirmed_on = forms.DateField(label=_("对象确认日期"), widget=_date)
    started_on = forms.DateField(
        label=_("结对开始日期"), widget=_date, required=False, help_text=_("不填则为确认当天")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confirmed_on"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        how, note = data.get("how"), (data.get("how_note") or "").strip()
        if how == "其他" and not note:
            self.add_error("how_note", _("选“其他”时请说明确认方式。"))
        data["how_text"] = f"{how}（{note}）" if how and note else (how or "")
        return data


class EndForm(forms.Form):
    ended_on = forms.DateField(label=_("结束日期"), widget=_date)
    reason = forms.CharField(
        label=_("结束原因"),
        max_length=200,
        error_messages={"required": _("请填写结束原因。")},
        help_text=_("如：对象已入住敬老院、儿童父母返乡、志愿者调离"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ended_on"].initial = timezone.localdate()


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("撤销原因"),
        max_length=200,
        error_messages={"required": _("请填写撤销原因。")},
        help_text=_("如：对象或监护人不同意、志愿者无法承担"),
    )


class SetVolunteersForm(_VolunteersAndLeadForm):
    confirmed_on = forms.DateField(
        label=_("新加入志愿者的确认日期"),
        widget=_date,
        required=False,
        help_text=_("结对已经志愿者确认时，新加入的志愿者按此日期记为已确认；不填为今天"),
    )

    def __init__(self, *args, members, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_members(members)
