"""Importing the beneficiary rosters township staff keep: 困难学生, 特困人员, 留守儿童 — an import
kind of the shared flow (``aidcases.importing``), so its pages, jobs and command come from there.

One spec per category (the common person columns plus the category's own), then::

    sheet = people.imports.read(upload, upload.name, "tekun")
    plan = people.imports.validate(sheet, "tekun", township, user)   # writes nothing
    if plan.ok:
        result = people.imports.commit(plan, user)                      # all or nothing

``validate`` (``plan``) checks every row before anything is written: the engine's cell checks,
the ID number (via ``pii``), gender and birth date against it, a person listed twice, the
village (matched by name inside the township, also inside a longer address), persons the user
may not touch, and the same field checks the registry forms use (``services.person_clean``).
Each row then becomes new / updated (with the fields that change) / unchanged; importing the
same file twice writes nothing the second time.

Category details (profiles) are registered by category (``categories``): the hub registers
特困人员; leaf apps register their categories from their ``ready()``.

``commit`` runs in one transaction. Existing persons go through the services one by one;
brand-new persons — the bulk of a first import — are written in batches that store exactly
what ``person_register`` / ``case_open`` / the profile services store (one audit row each,
history rows via the triggers), because one service call per row cannot meet the
10,000-rows-in-20-seconds budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import importing, selectors
from aidcases.importing.forms import UploadForm
from aidcases.models import AidCase, Area, User
from aidcases.people.imports.categories import (
    Category,
    Context,
    ProfileHandler,
    categories,
    get,
    read,
    register,
)
from aidcases.people.imports.columns import COMMON_COLUMNS, id_number_cell, phone_cell
from aidcases.people.imports.commit import commit
from aidcases.people.imports.plan import PERMISSION, Plan, PlanRow, validate

__all__ = [
    "COMMON_COLUMNS",
    "PERMISSION",
    "Category",
    "Context",
    "PeopleImport",
    "Plan",
    "PlanRow",
    "ProfileHandler",
    "categories",
    "commit",
    "get",
    "id_number_cell",
    "phone_cell",
    "read",
    "register",
    "validate",
]


class PeopleUploadForm(UploadForm):
    category = forms.ChoiceField(
        label=gettext_lazy("花名册类别"),
        error_messages={"required": gettext_lazy("请选择花名册类别。")},
    )
    township = forms.ModelChoiceField(
        label=gettext_lazy("乡(镇)"),
        queryset=Area.objects.none(),
        empty_label=gettext_lazy("—请选择—"),
        error_messages={
            "required": gettext_lazy("请选择乡(镇)。"),
            "invalid_choice": gettext_lazy("请选择有效的乡(镇)。"),
        },
        help_text=gettext_lazy("文件中的“所在村”在这个乡(镇)的村(社区)中查找。"),
    )
    field_order = ("category", "township", "file")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["file"].label = _("花名册文件")
        self.fields["file"].error_messages["required"] = _("请选择要上传的花名册文件。")
        self.fields["category"].choices = [("", _("—请选择—"))] + [
            (c.category, c.label) for c in categories()
        ]
        townships = selectors.townships_for(user=user)
        self.fields["township"].queryset = townships
        if not self.is_bound:
            own = townships.filter(pk=user.area_id).first() if user.area_id else None
            if own is not None:
                self.initial.setdefault("township", own.pk)
            elif townships.count() == 1:
                self.initial.setdefault("township", townships.first().pk)

    def out_of_scope(self) -> bool:
        # A township outside the user's scope is not "invalid input": it does not exist here.
        raw = self.data.get("township", "")
        return bool(raw) and not (
            raw.isdigit() and selectors.townships_for(user=self.user).filter(pk=raw).exists()
        )

    def options(self) -> dict[str, Any]:
        return {
            "category": self.cleaned_data["category"],
            "township": self.cleaned_data["township"].pk,
        }


@dataclass(frozen=True)
class Roster:
    """What an upload's options resolve to: which category, into which township."""

    category: str
    township: Area


class PeopleImport(importing.ImportKind):
    name = "people"
    title = gettext_lazy("花名册导入")
    permission = PERMISSION
    description = gettext_lazy("把乡镇平时保存的花名册（Excel）上传到系统。")
    upload_form = PeopleUploadForm
    preview_columns = (
        (gettext_lazy("姓名"), "name"),
        (gettext_lazy("身份证号码"), "id_masked"),
        (gettext_lazy("所在村"), "village_name"),
    )
    back_url_name = "person_list"
    back_label = gettext_lazy("查看帮扶对象名单")
    check_download_verb = "person.import_check"

    def spec(self, options):
        return get(options["category"]).spec

    def template_spec(self, options):
        return get(options["category"]).template_spec

    def templates(self, user):
        return [(c.label, {"category": c.category}) for c in categories()]

    def template_options(self, query):
        category = query.get("category", "")
        try:
            get(category)
        except ValueError:
            return None
        return {"category": category}

    def file_title(self, options):
        return get(options["category"]).spec.title

    def context(self, user, options) -> Roster:
        """The upload's category and township, if the user may still import into it."""
        try:
            category = get(options.get("category", "")).category
        except ValueError:
            raise importing.UploadGone from None
        township = selectors.townships_for(user=user).filter(pk=options.get("township")).first()
        if township is None:
            raise importing.UploadGone
        return Roster(category=category, township=township)

    def heading(self, options, context: Roster) -> str:
        return _("%(category)s花名册 · %(township)s") % {
            "category": AidCase.Category(context.category).label,
            "township": context.township.name,
        }

    def audit_area(self, context: Roster) -> Area:
        return context.township

    def validate(self, sheet, *, acting_user, context: Roster, file_name="", progress=None):
        return validate(
            sheet,
            context.category,
            context.township,
            acting_user,
            file_name=file_name,
            progress=progress,
        )

    def commit(self, plan, *, acting_user, progress=None):
        return commit(plan, acting_user, progress=progress)


importing.register(PeopleImport())
