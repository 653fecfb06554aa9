"""Forms: the phone visit form, the visit and follow-up filters, follow-up actions.

The forms only check what was typed; the rules (scope, membership, category, duplicates)
are the services'."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases.models import AidCase
from volunteers.models import CARES, MANDATORY_REPORTS, FollowUp, Visit

YES_NO_UNKNOWN = (("", _("未了解")), ("yes", _("是")), ("no", _("否")))


def _tri(value: str):
    return {"yes": True, "no": False}.get(value)


class VisitForm(forms.Form):
    case = forms.IntegerField(
        label=_("走访对象"), error_messages={"required": _("请选择走访对象。")}
    )
    team = forms.ModelChoiceField(
        label=_("服务队"),
        queryset=None,
        required=False,
        empty_label=_("（不选：乡镇专干自己走访）"),
        error_messages={"invalid_choice": _("请选择服务队。")},
    )
    visitors = forms.ModelMultipleChoiceField(
        label=_("走访人员"),
        queryset=None,
        required=False,
        error_messages={"invalid_choice": _("所选走访人员不在名单中，请重新勾选。")},
    )
    date = forms.DateField(
        label=_("走访日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("请填写走访日期。"), "invalid": _("日期格式不对。")},
    )
    mode = forms.ChoiceField(
        label=_("走访方式"), choices=Visit.Mode.choices, widget=forms.RadioSelect
    )
    not_seen = forms.BooleanField(label=_("未见到本人"), required=False)
    not_seen_reason = forms.CharField(label=_("未见到本人的原因"), max_length=200, required=False)
    own_action = forms.CharField(label=_("自选行动"), max_length=300, required=False)
    left_behind_kind = forms.ChoiceField(
        label=_("走访类型"),
        choices=[("", _("请选择"))] + list(Visit.LeftBehindKind.choices),
        required=False,
    )
    actual_carer = forms.CharField(label=_("实际照料人"), max_length=50, required=False)
    carer_matches_guardian = forms.ChoiceField(
        label=_("与登记监护人一致"), choices=YES_NO_UNKNOWN, required=False
    )
    schooling = forms.CharField(label=_("学习情况"), max_length=300, required=False)
    child_health = forms.CharField(label=_("健康状况"), max_length=300, required=False)
    child_mood = forms.CharField(label=_("情绪状态"), max_length=300, required=False)
    child_safety = forms.CharField(label=_("安全情况"), max_length=300, required=False)
    parents_contacted = forms.ChoiceField(
        label=_("上次走访以来父母有联系"), choices=YES_NO_UNKNOWN, required=False
    )
    parents_contact_note = forms.CharField(label=_("父母联系情况"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, teams, volunteers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams
        self.fields["visitors"].queryset = volunteers
        for key, label in CARES:
            self.fields[f"{key}_note"] = forms.CharField(
                label=label, max_length=300, required=False
            )
            self.fields[f"{key}_concern"] = forms.BooleanField(label=_("需关注"), required=False)
        for field, label in MANDATORY_REPORTS:
            self.fields[field] = forms.BooleanField(label=label, required=False)
        self.fields["date"].initial = timezone.localdate
        for name in ("left_behind_kind", "carer_matches_guardian", "parents_contacted"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def care_rows(self):
        return [(key, label, self[f"{key}_note"], self[f"{key}_concern"]) for key, label in CARES]

    def report_fields(self):
        return [self[field] for field, _label in MANDATORY_REPORTS]

    def cares(self) -> dict:
        d = self.cleaned_data
        return {key: (d[f"{key}_note"], d[f"{key}_concern"]) for key, _label in CARES}

    def left_behind(self) -> dict:
        d = self.cleaned_data
        values = {
            f: d[f]
            for f in (
                "left_behind_kind",
                "actual_carer",
                "schooling",
                "child_health",
                "child_mood",
                "child_safety",
                "parents_contact_note",
            )
        }
        values["carer_matches_guardian"] = _tri(d["carer_matches_guardian"])
        values["parents_contacted"] = _tri(d["parents_contacted"])
        for field, _label in MANDATORY_REPORTS:
            values[field] = d[field]
        return values


class VisitFilterForm(forms.Form):
    township = forms.ModelChoiceField(queryset=None, required=False)
    team = forms.ModelChoiceField(queryset=None, required=False)
    category = forms.ChoiceField(
        choices=[
            ("", _("全部类别")),
            *[(c, AidCase.Category(c).label) for c in ("tekun", "left_behind")],
        ],
        required=False,
    )
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    not_seen = forms.BooleanField(required=False)

    def __init__(self, *args, townships, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships
        self.fields["team"].queryset = teams


class FollowUpFilterForm(forms.Form):
    state = forms.ChoiceField(
        choices=[("", _("全部状态")), ("open", _("未办结")), *FollowUp.State.choices],
        required=False,
    )
    urgency = forms.ChoiceField(
        choices=[("", _("全部")), *FollowUp.Urgency.choices], required=False
    )
    township = forms.ModelChoiceField(queryset=None, required=False)

    def __init__(self, *args, townships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = townships


class FollowUpCreateForm(forms.Form):
    need = forms.CharField(
        label=_("需要跟进的事项"),
        max_length=300,
        widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
    )
    due_on = forms.DateField(
        label=_("办理期限"),
        widget=forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
        ),
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"),
        choices=FollowUp.Urgency.choices,
        initial=FollowUp.Urgency.NORMAL,
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label=_("处理结果（做了什么）"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请填写处理结果（做了什么）。")},
    )


class CloseForm(forms.Form):
    reason = forms.CharField(
        label=_("关闭原因"),
        max_length=200,
        error_messages={"required": _("请填写关闭原因。")},
    )


SELECT = {"class": "form-select form-select-sm"}
INPUT = {"class": "form-control form-control-sm"}


class ReassignForm(forms.Form):
    owner = forms.ChoiceField(label=_("新负责人"), widget=forms.Select(attrs=SELECT))
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, owners, **kwargs):
        super().__init__(*args, **kwargs)
        self.owners = {str(u.pk): u for u in owners}
        self.fields["owner"].choices = [
            (str(u.pk), f"{u}（{u.get_role_display()}{' · ' + str(u.area) if u.area else ''}）")
            for u in owners
        ]

    def chosen_owner(self):
        return self.owners[self.cleaned_data["owner"]]


class ReferForm(forms.Form):
    referred_to = forms.ChoiceField(
        label=_("转介部门"), choices=FollowUp.ReferredTo.choices, widget=forms.Select(attrs=SELECT)
    )
    note = forms.CharField(label=_("转介说明"), max_length=200, required=False)
