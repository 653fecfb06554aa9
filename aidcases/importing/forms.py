"""The upload page's form. A kind with choices besides the file (a roster's category and
township) subclasses ``UploadForm``, adds the fields and returns them from ``options()``.

The form refuses only what is plainly not an importable file (wrong type, empty, too big);
the file's content is checked by the engine and the kind's ``validate``.
"""

from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from aidcases.importing.reader import DEFAULT_MAX_BYTES, file_type_problem, too_big_message

ALLOWED_SUFFIXES = (".xlsx", ".csv")
MAX_BYTES = DEFAULT_MAX_BYTES


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("文件"),
        help_text=_("Excel（.xlsx）或 CSV 文件，不超过 %(mb)d MB。表头上方可以有标题行。")
        % {"mb": MAX_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_SUFFIXES)}),
        error_messages={
            "required": _("请选择要上传的文件。"),
            "empty": _("文件是空的，请检查后重新选择。"),
            "invalid": _("没有收到文件，请重新选择。"),
        },
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.helper = FormHelper()
        self.helper.form_tag = False

    def out_of_scope(self) -> bool:
        """True when the request names something outside the user's scope (a township of
        another officer): the page answers 404, as for anything that does not exist."""
        return False

    def options(self) -> dict[str, Any]:
        """The choices besides the file, as JSON (ids, not objects). Call after is_valid()."""
        return {}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        problem = file_type_problem(upload.name)
        if problem is not None:
            raise ValidationError(problem)
        if upload.size > MAX_BYTES:
            raise ValidationError(too_big_message(MAX_BYTES))
        return upload
