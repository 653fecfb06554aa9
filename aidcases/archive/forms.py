"""Forms of the 一人一档 page."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aidcases import attachments
from aidcases.models import AidCase, Attachment, Person


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Attachment.Kind.choices, initial="document")
    title = forms.CharField(
        label=_("说明"),
        max_length=100,
        required=False,
        help_text=_("例如：户口本、低保证、残疾证、入学通知书"),
    )
    case = forms.ModelChoiceField(
        label=_("所属帮扶档案"),
        queryset=AidCase.objects.none(),
        required=False,
        empty_label=_("（不指定）"),
    )
    file = forms.FileField(
        label=_("文件"),
        error_messages={
            "required": _("请选择要上传的文件。"),
            "empty": _("文件是空的，请重新选择。"),
            "invalid": _("没有收到文件，请重新选择。"),
        },
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,image/webp,image/gif,application/pdf"}
        ),
    )
    set_as_photo = forms.BooleanField(label=_("设为本人照片"), required=False)

    def __init__(self, *args, person: Person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = AidCase.objects.filter(person=person)
        self.fields["case"].label_from_instance = lambda c: (
            f"{c.get_category_display()}（{c.get_status_display()}，{c.opened_on:%Y-%m-%d}）"
        )
        self.fields["file"].help_text = _(
            "JPG、PNG、WebP、GIF 图片或 PDF，不超过 %(max)s。照片会去除拍摄地点等信息。"
        ) % {"max": attachments.human_size(attachments.max_bytes())}
