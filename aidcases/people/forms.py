"""Forms of the people registry screens. Business rules stay in services:
these forms collect input and show the services' Chinese messages."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Div, Fieldset, Layout
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases import pii, services
from aidcases.areapicker import AreaPickerField
from aidcases.models import HARDSHIP_FLAGS, AidCase, Person, TekunProfile, User

_date = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
LEVEL_CHOICES = [("", _("未评定")), *AidCase.Level.choices]
PHONE_FIELDS = ("phone", "guardian_phone")
CLOSE_REASONS = ["已脱贫", "已毕业", "不再符合条件", "迁出本县", "死亡", "本人或监护人申请退出"]


def _not_future(value):
    if value and value > timezone.localdate():
        raise ValidationError(_("日期不能晚于今天。"))
    return value


class PersonForm(forms.Form):
    name = forms.CharField(
        label=_("姓名"), max_length=50, error_messages={"required": _("姓名不能为空。")}
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
        help_text=_("18位，最后一位可以是X。填写后性别、出生日期由号码得出。"),
    )
    no_id_reason = forms.CharField(
        label=_("无身份证号码的原因"),
        max_length=200,
        required=False,
        help_text=_("确实没有身份证号码时填写，如：尚未办理户口。"),
    )
    gender = forms.ChoiceField(
        label=_("性别"), choices=[("", _("—请选择—")), *Person.Gender.choices], required=False
    )
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=_date)
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("手机号码，或带区号的固定电话（如 0359-1234567）。"),
    )
    area = AreaPickerField(
        label=_("所在村(社区)"),
        levels=AreaPickerField.VILLAGES,
        error_messages={
            "required": _("请选择所在村(社区)。"),
            "invalid_choice": _("请选择有效的村(社区)。"),
        },
    )
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    guardian_name = forms.CharField(label=_("监护人姓名"), max_length=50, required=False)
    guardian_relationship = forms.CharField(
        label=_("监护人与本人关系"), max_length=20, required=False
    )
    guardian_phone = forms.CharField(
        label=_("监护人电话"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    # Create only: open a first case in the same submit.
    case_category = forms.ChoiceField(
        label=_("帮扶类别"),
        required=False,
        choices=[("", _("暂不建档")), *AidCase.Category.choices],
    )
    case_level = forms.ChoiceField(label=_("认定等级"), required=False, choices=LEVEL_CHOICES)
    case_flags = forms.MultipleChoiceField(
        label=_("困难类型"),
        required=False,
        choices=HARDSHIP_FLAGS,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, user: User, person: Person | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.person = person
        self.fields["area"].limit_to(user)
        self.id_locked = person is not None and person.has_id_number
        # Stored phones are shown in clear only to a role that may reveal them
        # (and the edit view audits that as a reveal); others see them masked,
        # and a masked value sent back unchanged keeps the stored number.
        self.phones_masked = person is not None and not user.has_perm("aidcases.reveal_phone")
        if person is not None:
            for name in ("case_category", "case_level", "case_flags"):
                del self.fields[name]
            self.fields["id_number"].help_text = self._id_help(person)
            if self.id_locked:
                # Derived from the stored ID number: a new number changes them.
                for name in ("gender", "birth_date"):
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _(
                        "由身份证号码得出；如需更正，请填写正确的身份证号码。"
                    )
                self.fields["no_id_reason"].widget = forms.HiddenInput()
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        layout = [
            Fieldset(_("基本信息"), "name", "id_number", "no_id_reason", "gender", "birth_date"),
            Fieldset(_("住址与联系方式"), "area", "address", "phone"),
            Fieldset(_("监护人"), "guardian_name", "guardian_relationship", "guardian_phone"),
            Fieldset(_("其他"), "notes"),
        ]
        if person is None:
            layout.append(
                Div(
                    Fieldset(
                        _("同时建立帮扶档案（可选）"), "case_category", "case_level", "case_flags"
                    ),
                    css_class="border rounded p-3 mb-3 bg-light",
                )
            )
        self.helper.layout = Layout(*layout)

    @staticmethod
    def _id_help(person: Person) -> str:
        if not person.has_id_number:
            return str(_("当前未登记身份证号码；取得后请填写。"))
        # Beside this form's full birth date: no tail at all (500 candidates,
        # pii.id_candidates).
        masked = pii.mask_id_number(pii.decrypt(person.id_number_encrypted), tail=0)
        return str(_("留空表示不修改（当前：%(masked)s）")) % {"masked": masked}

    @classmethod
    def initial_for(cls, person: Person, *, user: User | None = None) -> dict:
        # The clear ID number is never an initial value: it would be in the HTML.
        masked = user is not None and not user.has_perm("aidcases.reveal_phone")
        phones = {
            name: (pii.mask_phone(value) if masked and value else value)
            for name in PHONE_FIELDS
            for value in [getattr(person, name)]
        }
        return {
            "name": person.name,
            "gender": person.gender,
            "birth_date": person.birth_date,
            "area": person.area_id,
            "address": person.address,
            "guardian_name": person.guardian_name,
            "guardian_relationship": person.guardian_relationship,
            "notes": person.notes,
            "no_id_reason": person.no_id_reason,
            **phones,
        }

    def clear_phones_shown(self) -> list[str]:
        """The stored phones this form shows in clear (each is a reveal)."""
        if self.person is None or self.phones_masked:
            return []
        return [name for name in PHONE_FIELDS if getattr(self.person, name)]

    def _kept_phone(self, name: str) -> str:
        value = self.cleaned_data.get(name) or ""
        stored = getattr(self.person, name, "") if self.person is not None else ""
        if self.phones_masked and stored and value.strip() == pii.mask_phone(stored):
            return stored
        return value

    def clean_phone(self) -> str:
        return self._kept_phone("phone")

    def clean_guardian_phone(self) -> str:
        return self._kept_phone("guardian_phone")

    def clean(self):
        data = super().clean()
        if data.get("case_category") == "" and (data.get("case_level") or data.get("case_flags")):
            self.add_error("case_category", _("填写了认定等级或困难类型，请同时选择帮扶类别。"))
        return data

    def person_data_kwargs(self) -> dict:
        """Keyword arguments for services.PersonData."""
        data = self.cleaned_data
        kwargs = {
            name: data.get(name) or ""
            for name in (
                "name",
                "id_number",
                "no_id_reason",
                "gender",
                "phone",
                "address",
                "guardian_name",
                "guardian_relationship",
                "guardian_phone",
                "notes",
            )
        }
        kwargs["area"] = data["area"]
        kwargs["birth_date"] = data.get("birth_date")
        if self.id_locked:
            # Locked fields are the stored values: the service keeps them, or
            # derives new ones from a newly typed ID number.
            kwargs["gender"] = ""
            kwargs["birth_date"] = None
            kwargs["no_id_reason"] = ""
        return kwargs


class CaseOpenForm(forms.Form):
    category = forms.ChoiceField(label=_("帮扶类别"), choices=AidCase.Category.choices)
    hardship_level = forms.ChoiceField(label=_("认定等级"), required=False, choices=LEVEL_CHOICES)
    flags = forms.MultipleChoiceField(
        label=_("困难类型"),
        required=False,
        choices=HARDSHIP_FLAGS,
        widget=forms.CheckboxSelectMultiple,
    )
    opened_on = forms.DateField(
        label=_("建档日期"), widget=_date, validators=[_not_future], initial=timezone.localdate
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, open_categories: set[str] = frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [
            (value, f"{label}（已在册）" if value in open_categories else label)
            for value, label in AidCase.Category.choices
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class CaseEditForm(forms.Form):
    hardship_level = forms.ChoiceField(label=_("认定等级"), required=False, choices=LEVEL_CHOICES)
    flags = forms.MultipleChoiceField(
        label=_("困难类型"),
        required=False,
        choices=HARDSHIP_FLAGS,
        widget=forms.CheckboxSelectMultiple,
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class TekunProfileForm(forms.ModelForm):
    """特困人员 details; saved through services.tekun_profile_save, never form.save()."""

    class Meta:
        model = TekunProfile
        fields = list(services.TEKUN_FIELDS)
        widgets = {
            "responsible_cadre_phone": forms.TextInput(attrs={"inputmode": "tel"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["support_mode"].choices = [
            ("", _("—请选择—")),
            *TekunProfile.SupportMode.choices,
        ]
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                _("特困人员信息"),
                "support_mode",
                "care_home",
                "health",
                "disability",
                "lives_alone",
                "responsible_cadre",
                "responsible_cadre_phone",
            )
        )

    def clean_responsible_cadre_phone(self) -> str:
        raw = self.cleaned_data.get("responsible_cadre_phone") or ""
        return pii.normalize_phone(raw) if raw.strip() else ""

    def values(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}


class CaseCloseForm(forms.Form):
    closed_on = forms.DateField(
        label=_("结案日期"), widget=_date, validators=[_not_future], initial=timezone.localdate
    )
    closed_reason = forms.CharField(
        label=_("结案原因"),
        max_length=200,
        error_messages={"required": _("请填写结案原因。")},
        widget=forms.TextInput(attrs={"list": "close-reasons", "autocomplete": "off"}),
        help_text=_("可从建议中选择，也可直接填写。"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True


class PeopleExportForm(forms.Form):
    full = forms.BooleanField(label=_("包含完整身份证号码和电话"), required=False)
