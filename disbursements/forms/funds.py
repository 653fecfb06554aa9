"""Forms of the money-in screens. They check input; the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from aidcases import pii
from aidcases.models import HARDSHIP_FLAGS, AidCase, hardship_level_choices
from disbursements.forms.once import OnceTokenMixin
from disbursements.models import (
    AidProgramme,
    Fund,
    FundEntry,
    FundingSource,
)
from disbursements.services.programmes import SCHOOL_STAGES

_date = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_money_attrs = {"inputmode": "decimal", "autocomplete": "off", "step": "0.01", "min": "0.01"}
MAX_MONEY = Decimal("9999999999.99")


def _money_field(label, *, required=True, help_text="") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        max_value=MAX_MONEY,
        help_text=help_text,
        widget=forms.NumberInput(attrs=_money_attrs),
        error_messages={
            "required": _("请填写金额。"),
            "invalid": _("请填写金额数字，如 5000 或 1234.50。"),
            "min_value": _("金额必须大于0。"),
            "max_decimal_places": _("金额最多保留两位小数（到分）。"),
            "max_digits": _("金额过大。"),
            "max_whole_digits": _("金额过大。"),
        },
    )


class NamedChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return str(obj)


class SourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: FundingSource) -> str:
        return f"{obj.name}（{obj.get_kind_display()}）"


# --- sources ---------------------------------------------------------------------


class FundingSourceForm(forms.Form):
    kind = forms.ChoiceField(label=_("来源类型"), choices=FundingSource.Kind.choices)
    name = forms.CharField(
        label=_("名称"), max_length=100, error_messages={"required": _("请填写来源名称。")}
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(
        label=_("联系电话"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
        help_text=_("手机号码，或带区号的固定电话（如 0350-1234567）。"),
    )
    publish_name = forms.BooleanField(
        label=_("同意公开署名"),
        required=False,
        help_text=_("不同意时，公开材料中显示为“爱心人士”。"),
    )
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["is_active"]

    def clean_contact_phone(self) -> str:
        return pii.normalize_phone(self.cleaned_data["contact_phone"])

    def clean_name(self) -> str:
        return self.cleaned_data["name"].strip()


class SourceFilterForm(forms.Form):
    q = forms.CharField(label=_("名称"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("来源类型"),
        required=False,
        choices=[("", _("全部类型")), *FundingSource.Kind.choices],
    )


# --- funds -----------------------------------------------------------------------


class FundForm(forms.Form):
    name = forms.CharField(
        label=_("资金名称"), max_length=100, error_messages={"required": _("请填写资金名称。")}
    )
    purpose = forms.CharField(label=_("用途"), max_length=200, required=False)
    restriction = forms.ChoiceField(
        label=_("使用限定"),
        choices=Fund.Restriction.choices,
        initial=Fund.Restriction.NONE,
        widget=forms.RadioSelect,
    )
    restricted_programme = NamedChoiceField(
        label=_("限定项目"),
        queryset=AidProgramme.objects.none(),
        required=False,
        empty_label=_("—请选择—"),
    )
    restricted_school_name = forms.CharField(
        label=_("限定学校"), max_length=100, required=False, help_text=_("填写学校全称。")
    )
    # The person is picked from a search in the user's scope (the view checks the id).
    restricted_person = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, programmes: QuerySet[AidProgramme], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["restricted_programme"].queryset = programmes

    def clean(self):
        data = super().clean()
        kind = data.get("restriction")
        wanted = {
            Fund.Restriction.PROGRAMME: ("restricted_programme", _("请选择限定的资助项目。")),
            Fund.Restriction.SCHOOL: ("restricted_school_name", _("请填写限定的学校名称。")),
            Fund.Restriction.PERSON: ("restricted_person", _("请搜索并选择限定的受助人。")),
        }
        if kind in wanted:
            field, message = wanted[kind]
            if not data.get(field):
                self.add_error(field if field != "restricted_person" else None, message)
        return data


class FundDeactivateForm(forms.Form):
    reason = forms.CharField(
        label=_("停用原因"),
        max_length=200,
        error_messages={"required": _("请说明停用原因。")},
        widget=forms.TextInput(attrs={"placeholder": _("如：专项已结束、资金已用完")}),
    )


# --- entries ---------------------------------------------------------------------


class FundEntryForm(OnceTokenMixin, forms.Form):
    source = SourceChoiceField(
        label=_("资金来源"),
        queryset=FundingSource.objects.none(),
        empty_label=_("—请选择—"),
        error_messages={"required": _("请选择资金来源。")},
    )
    fund = NamedChoiceField(
        label=_("存入专项资金"),
        queryset=Fund.objects.none(),
        empty_label=_("—请选择—"),
        error_messages={"required": _("请选择专项资金。")},
    )
    amount = _money_field(_("金额（元）"))
    received_on = forms.DateField(
        label=_("到账日期"),
        widget=_date,
        error_messages={"required": _("请填写到账日期。"), "invalid": _("日期格式不正确。")},
    )
    document_number = forms.CharField(label=_("拨款文号/收据号"), max_length=60, required=False)
    receipt_state = forms.ChoiceField(
        label=_("收据"), choices=FundEntry.ReceiptState.choices, initial="issued"
    )
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, sources, funds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources
        self.fields["fund"].queryset = funds

    def clean(self):
        data = super().clean()
        if (
            data.get("receipt_state") == FundEntry.ReceiptState.ISSUED
            and not (data.get("document_number") or "").strip()
        ):
            self.add_error("document_number", _("已开具收据时请填写收据号或拨款文号。"))
        return data


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("冲销原因"),
        max_length=200,
        error_messages={"required": _("请说明冲销原因。")},
        widget=forms.TextInput(attrs={"placeholder": _("如：重复录入、金额有误")}),
    )


# --- goods -----------------------------------------------------------------------


class GoodsForm(forms.Form):
    source = SourceChoiceField(
        label=_("捐赠方"),
        queryset=FundingSource.objects.none(),
        empty_label=_("—请选择—"),
        error_messages={"required": _("请选择捐赠方。")},
    )
    item = forms.CharField(label=_("物资名称"), max_length=100)
    quantity = forms.DecimalField(
        label=_("数量"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any", "min": "0.01"}),
        error_messages={"min_value": _("数量必须大于0。"), "invalid": _("请填写数字。")},
    )
    unit = forms.CharField(
        label=_("单位"), max_length=10, widget=forms.TextInput(attrs={"placeholder": "册、件、吨"})
    )
    unit_value = forms.DecimalField(
        label=_("估价单价（元）"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0"}),
        error_messages={"min_value": _("估价不能为负数。"), "invalid": _("请填写金额数字。")},
    )
    received_on = forms.DateField(label=_("接收日期"), widget=_date)
    notes = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources


class DistributeForm(forms.Form):
    recipient = forms.ChoiceField(
        label=_("发放给"),
        choices=[("person", _("受助人")), ("school", _("学校"))],
        initial="person",
        widget=forms.RadioSelect,
    )
    person = forms.IntegerField(required=False, widget=forms.HiddenInput)
    school_name = forms.CharField(label=_("受赠学校"), max_length=100, required=False)
    quantity = forms.DecimalField(
        label=_("发放数量"),
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "any", "min": "0.01"}),
        error_messages={"min_value": _("发放数量必须大于0。"), "invalid": _("请填写数字。")},
    )
    given_on = forms.DateField(label=_("发放日期"), widget=_date)

    def clean(self):
        data = super().clean()
        if data.get("recipient") == "person" and not data.get("person"):
            self.add_error(None, _("请搜索并选择受助人。"))
        if data.get("recipient") == "school" and not (data.get("school_name") or "").strip():
            self.add_error("school_name", _("请填写受赠学校名称。"))
        return data


# --- programmes ------------------------------------------------------------------

BAND_ROWS = 3


class ProgrammeForm(forms.Form):
    name = forms.CharField(label=_("项目名称"), max_length=100)
    kind = forms.ChoiceField(label=_("项目类型"), choices=AidProgramme.Kind.choices)
    mode = forms.ChoiceField(label=_("发放方式"), choices=AidProgramme.Mode.choices)
    months = forms.IntegerField(
        label=_("发放月数"),
        required=False,
        min_value=1,
        max_value=24,
        help_text=_("按月发放时填写，如 10 个月。"),
    )
    categories = forms.MultipleChoiceField(
        label=_("适用类别"),
        required=False,
        choices=AidCase.Category.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示不限。"),
    )
    levels = forms.MultipleChoiceField(
        label=_("适用认定等级"),
        required=False,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示不限。"),
    )
    flags = forms.MultipleChoiceField(
        label=_("需具备的困难情形"),
        required=False,
        choices=HARDSHIP_FLAGS,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("选中多项时，具备其中任一项即可。"),
    )
    school_stages = forms.MultipleChoiceField(
        label=_("适用学段"),
        required=False,
        choices=SCHOOL_STAGES,
        widget=forms.CheckboxSelectMultiple,
    )
    yearly_cap = _money_field(
        _("每人每年上限（元）"), required=False, help_text=_("留空表示不设上限。")
    )
    funds = forms.ModelMultipleChoiceField(
        label=_("可用资金"),
        queryset=Fund.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一项可用资金。")},
    )
    approvals_required = forms.IntegerField(
        label=_("需审批人数"), min_value=1, max_value=9, initial=1
    )
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, funds: QuerySet[Fund], **kwargs):
        super().__init__(*args, **kwargs)
        self.level_choices = hardship_level_choices()
        self.fields["levels"].choices = self.level_choices
        self.fields["funds"].queryset = funds
        # 资助标准: one amount per 认定等级, and one for anyone without a level
        for code, label in [*self.level_choices, ("", _("未认定等级"))]:
            self.fields[f"amount_{code or 'none'}"] = _money_field(label, required=False)
        for i in range(BAND_ROWS):
            self.fields[f"band_{i}_min"] = _money_field(_("批次总额不低于（元）"), required=False)
            self.fields[f"band_{i}_approvals"] = forms.IntegerField(
                label=_("需审批人数"), required=False, min_value=1, max_value=9
            )

    @property
    def amount_fields(self):
        return [
            self[f"amount_{code or 'none'}"] for code, _label in [*self.level_choices, ("", "")]
        ]

    @property
    def band_rows(self):
        return [(self[f"band_{i}_min"], self[f"band_{i}_approvals"]) for i in range(BAND_ROWS)]

    def clean(self):
        data = super().clean()
        for i in range(BAND_ROWS):
            floor, approvals = data.get(f"band_{i}_min"), data.get(f"band_{i}_approvals")
            if (floor is None) != (approvals is None) and f"band_{i}_min" not in self.errors:
                self.add_error(f"band_{i}_min", _("请同时填写起点金额和审批人数。"))
        return data

    def standard_amounts(self) -> dict[str, Decimal]:
        return {
            code: self.cleaned_data[f"amount_{code or 'none'}"]
            for code, _label in [*self.level_choices, ("", "")]
            if self.cleaned_data.get(f"amount_{code or 'none'}") is not None
        }

    def bands(self) -> list[tuple[Decimal, int]]:
        return [
            (self.cleaned_data[f"band_{i}_min"], self.cleaned_data[f"band_{i}_approvals"])
            for i in range(BAND_ROWS)
            if self.cleaned_data.get(f"band_{i}_min") is not None
            and self.cleaned_data.get(f"band_{i}_approvals") is not None
        ]

    @staticmethod
    def initial_for(programme: AidProgramme) -> dict:
        initial = {
            "name": programme.name,
            "kind": programme.kind,
            "mode": programme.mode,
            "months": programme.months,
            "categories": programme.categories,
            "levels": programme.levels,
            "flags": programme.flags,
            "school_stages": programme.school_stages,
            "yearly_cap": programme.yearly_cap,
            "funds": list(programme.funds.all()),
            "approvals_required": programme.approvals_required,
            "is_active": programme.is_active,
        }
        for code, value in programme.standard_amounts.items():
            initial[f"amount_{code or 'none'}"] = value
        for i, band in enumerate(programme.bands.all()[:BAND_ROWS]):
            initial[f"band_{i}_min"] = band.min_total
            initial[f"band_{i}_approvals"] = band.approvals
        return initial


__all__ = [
    "CancelForm",
    "DistributeForm",
    "FundDeactivateForm",
    "FundEntryForm",
    "FundForm",
    "FundingSourceForm",
    "GoodsForm",
    "ProgrammeForm",
    "SourceFilterForm",
]
