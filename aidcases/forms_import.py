"""The upload form of the roster import. Checks of the file's content are the import's
(aidcases.people_import); this form only collects the choice and refuses what is plainly
not a roster (wrong type, empty, too big)."""

from __future__ import annotations

from pathlib import Path

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from aidcases import access, importing, people_import
from aidcases.models import Area, User

ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".csv")
MAX_BYTES = importing.DEFAULT_MAX_BYTES


def township_choices(user: User):
    """The townships this user may import into: their own for a township officer."""
    return access.areas_for(user).filter(level=Area.Level.TOWNSHIP).order_by("code")


class PeopleImportForm(forms.Form):
    category = forms.ChoiceField(
        label=_("花名册类别"),
        error_messages={"required": _("请选择花名册类别。")},
    )
    township = forms.ModelChoiceField(
        label=_("乡(镇)"),
        queryset=Area.objects.none(),
        empty_label=_("—请选择—"),
        error_messages={
            "required": _("请选择乡(镇)。"),
            "invalid_choice": _("请选择有效的乡(镇)。"),
        },
        help_text=_("文件中的“所在村”在这个乡(镇)的村(社区)中查找。"),
    )
    file = forms.FileField(
        label=_("花名册文件"),
        help_text=_("Excel（.xlsx）或 CSV 文件，不超过 %(mb)d MB。表头上方可以有标题行。")
        % {"mb": MAX_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
        error_messages={
            "required": _("请选择要上传的花名册文件。"),
            "empty": _("文件是空的，请检查后重新选择。"),
            "invalid": _("没有收到文件，请重新选择。"),
        },
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("—请选择—"))] + [
            (c.category, c.label) for c in people_import.categories()
        ]
        townships = township_choices(user)
        self.fields["township"].queryset = townships
        if not self.is_bound:
            own = townships.filter(pk=user.area_id).first() if user.area_id else None
            if own is not None:
                self.initial.setdefault("township", own.pk)
            elif townships.count() == 1:
                self.initial.setdefault("township", townships.first().pk)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = Path(upload.name).suffix.lower()
        if suffix == ".xls":
            raise ValidationError(
                _(
                    "这是旧版 Excel（.xls）文件，无法直接导入。请用 Excel 或 WPS 打开，"
                    "点“另存为”，保存类型选“Excel 工作簿（*.xlsx）”，再上传新文件。"
                )
            )
        if suffix not in ALLOWED_SUFFIXES:
            raise ValidationError(
                _("不支持“%(suffix)s”文件，请上传 Excel（.xlsx）或 CSV 文件。")
                % {"suffix": suffix or upload.name}
            )
        if upload.size > MAX_BYTES:
            raise ValidationError(
                _("文件太大：超过 %(mb)d MB。请删去无关的工作表、图片，或拆分成几个文件分批导入。")
                % {"mb": MAX_BYTES // (1024 * 1024)}
            )
        return upload
