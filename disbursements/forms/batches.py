"""Forms of the batch screens: they check the shape of the input; the rules are the
services' (their ValidationErrors land on these forms)."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from disbursements.forms.once import OnceTokenMixin
from disbursements.models import AidBatch, AidLine, AidProgramme, Fund

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _school_years():
    this = timezone.localdate().year
    return [(y, f"{y}–{y + 1}学年") for y in range(this + 1, this - 6, -1)]


class BatchFilterForm(forms.Form):
    programme = forms.ModelChoiceField(
        label=_("资助项目"), queryset=AidProgramme.objects.none(), required=False
    )
    state = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *AidBatch.State.choices], required=False
    )
    school_year = forms.TypedChoiceField(
        label=_("学年"),
        choices=[("", _("全部学年"))],
        coerce=int,
        empty_value=None,
        required=False,
    )

    def __init__(self, *args, programmes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes
        self.fields["programme"].empty_label = _("全部项目")
        self.fields["school_year"].choices = [("", _("全部学年")), *_school_years()]


class BatchCreateForm(OnceTokenMixin, forms.Form):
    programme = forms.ModelChoiceField(label=_("资助项目"), queryset=AidProgramme.objects.none())
    name = forms.CharField(
        label=_("批次名称"),
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "如：2026年秋季学期困难学生助学金"}),
    )
    school_year = forms.TypedChoiceField(label=_("学年"), choices=(), coerce=int)
    term = forms.ChoiceField(
        label=_("学期"),
        choices=[("", _("不分学期")), *[c for c in AidBatch.Term.choices if c[0]]],
        required=False,
    )
    month = forms.DateField(
        label=_("发放月份"),
        required=False,
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text=_("按月发放的项目必填"),
    )
    fund = forms.ModelChoiceField(
        label=_("资金来源"),
        queryset=Fund.objects.none(),
        help_text=_("须是该项目可用的资金"),
    )

    def __init__(self, *args, programmes, funds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes
        self.fields["fund"].queryset = funds
        self.fields["school_year"].choices = _school_years()
        self.fields["school_year"].initial = timezone.localdate().year


class CommentForm(forms.Form):
    comment = forms.CharField(label=_("意见"), max_length=300, required=False)


class PublicityForm(forms.Form):
    starts = forms.DateField(label=_("公示开始日期"), widget=DATE)
    phone = forms.CharField(label=_("异议受理电话"), max_length=30)
    issuer = forms.CharField(label=_("公示单位"), max_length=100)


class VerifyForm(forms.Form):
    method = forms.ChoiceField(label=_("核查方式"), choices=AidLine.Verification.choices)
    note = forms.CharField(label=_("核查意见"), max_length=300, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class PayForm(forms.Form):
    paid_on = forms.DateField(label=_("发放日期"), widget=DATE)
    method = forms.ChoiceField(label=_("发放方式"), choices=AidLine.Method.choices)
    voucher = forms.CharField(label=_("凭证号/银行流水号"), max_length=60, required=False)
    receipt = forms.FileField(
        label=_("签收单"), required=False, help_text=_("现金或实物发放须上传受助人签收单")
    )

    def clean(self):
        data = super().clean()
        if data.get("method") in (AidLine.Method.CASH, AidLine.Method.IN_KIND) and not data.get(
            "receipt"
        ):
            self.add_error("receipt", _("现金或实物发放需上传签收单。"))
        return data


class ReverseForm(OnceTokenMixin, forms.Form):
    reason = forms.CharField(label=_("冲正原因"), max_length=300)
    voucher = forms.CharField(label=_("冲正凭证号"), max_length=60, required=False)


class BulkForm(forms.Form):
    """Many lines at once: verify them, or mark them paid by bank with one voucher
    (the bank's batch reference) or failed with one reason."""

    ACTIONS = [
        ("verify", _("核查所选")),
        ("pay", _("标记所选已发放（银行代发）")),
        ("fail", _("标记所选发放失败")),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    lines = forms.TypedMultipleChoiceField(coerce=int, choices=())
    method = forms.ChoiceField(choices=AidLine.Verification.choices, required=False)
    note = forms.CharField(max_length=300, required=False)
    paid_on = forms.DateField(required=False)
    voucher = forms.CharField(max_length=60, required=False)
    reason = forms.CharField(max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # any id: the view fetches them through the user's scope
        self.fields["lines"].valid_value = lambda value: True
        self.fields["lines"].error_messages["required"] = _("请先勾选名单中的人员。")


class NominateForm(forms.Form):
    case = forms.IntegerField()
    amount = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0.01, required=False)
    reason = forms.CharField(max_length=300, required=False)
