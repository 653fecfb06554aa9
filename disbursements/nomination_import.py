"""The nomination list import (资助名单导入): a sheet of people to add to one batch, the batch
chosen on the upload page — a kind of the hub's generic upload flow ("nominations"), so its
pages, jobs and command come from there.

Each row names a person by ID number (and name, which must agree), found among the active
people in the importing user's scope; the person's open case that fits the programme is
nominated, at the row's amount or the programme's standard for the case's level. The rules
of `line_add` apply row by row: the batch still takes nominations, the case fits the
programme, one line per person in the batch, nobody already holding this programme's
payment for the period; a person aided this school year by another programme, or whom the
line would take over the yearly cap, is a warning (over the cap cannot be approved later).

All or nothing. A person already in the batch at the same amount is "unchanged", so
importing the same file again changes nothing; at another amount the row is an error (the
list is changed on the batch page, not by a second file).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from aidcases import access, importing, pii
from aidcases.audit import audit_log
from aidcases.importing import Column
from aidcases.importing.forms import UploadForm
from aidcases.importing.kinds import NEW, UNCHANGED
from aidcases.models import AidCase, Person, User
from disbursements.models import AidBatch, AidLine
from disbursements.services import batches as services

PERMISSION = "disbursements.nominate"
ID_COLUMN = "身份证号码"

CATEGORY = importing.choice(
    {
        **{str(label): value for value, label in AidCase.Category.choices},
        "学生": AidCase.Category.STUDENT,
        "困难学生": AidCase.Category.STUDENT,
        "特困": AidCase.Category.TEKUN,
        "特困供养人员": AidCase.Category.TEKUN,
        "留守": AidCase.Category.LEFT_BEHIND,
        "留守学生": AidCase.Category.LEFT_BEHIND,
    }
)


def _amount(raw: Any) -> Decimal:
    value = importing.money(raw)
    if value <= 0:
        raise importing.CellError(_("金额须大于0"))
    return value


SPEC = importing.Spec(
    title="资助名单",
    columns=(
        Column(
            "name", "姓名", ("受助人姓名", "学生姓名", "受助人", "资助对象", "被资助人"),
            required=True, parse=importing.limited(50, importing.name), example="赵小明",
        ),
        Column(
            "id_number", ID_COLUMN,
            ("身份证号", "公民身份号码", "身份证", "证件号码", "居民身份证号码", "身份证件号码"),
            required=True, parse=pii.normalize_id_number,
            help="按身份证号码查找您负责区域内登记的人，姓名须一致",
        ),
        Column(
            "amount", "金额", ("资助金额", "发放金额", "补助金额", "拟资助金额", "金额（元）"),
            parse=_amount, example="800",
            help="空白按该项目对其认定等级的资助标准",
        ),
        Column(
            "category", "帮扶类别", ("类别", "人员类别", "对象类别"), parse=CATEGORY,
            help="此人有多个符合本项目的在册档案时填写（困难学生、特困人员、留守儿童）",
        ),
        Column(
            "reason", "提名理由", ("备注", "理由", "推荐理由", "说明", "申请理由"),
            parse=importing.limited(300),
        ),
    ),
)  # fmt: skip


@dataclass(kw_only=True)
class NominationRow(importing.PlanRow):
    name: str
    id_masked: str
    village: str
    case: AidCase
    amount: Decimal
    reason: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def category_label(self) -> str:
        return self.case.get_category_display()

    @property
    def amount_text(self) -> str:
        return f"{self.amount:,.2f}"

    @property
    def warnings_text(self) -> str:
        return "；".join(self.warnings)


@dataclass(kw_only=True)
class NominationPlan(importing.Plan):
    batch: AidBatch | None = None
    user: User | None = None


def batches_open_to(user: User):
    """Batches whose list this user may still add to (DRAFT, VERIFYING)."""
    if not user.has_perm(PERMISSION):
        return AidBatch.objects.none()
    return (
        AidBatch.objects.filter(access.scope_q(AidBatch, user), state__in=AidBatch.EDITABLE)
        .select_related("programme", "fund")
        .order_by("-created_at", "-id")
    )


class BatchChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: AidBatch) -> str:
        return f"{obj.name}（{obj.get_state_display()}）"


class NominationUploadForm(UploadForm):
    batch = BatchChoiceField(
        label=gettext_lazy("资助批次"),
        queryset=AidBatch.objects.none(),
        empty_label=gettext_lazy("—请选择—"),
        error_messages={
            "required": gettext_lazy("请选择资助批次。"),
            "invalid_choice": gettext_lazy("请选择仍可添加名单的资助批次。"),
        },
        help_text=gettext_lazy("名单中的人员将被提名到这个批次（草稿或审验核查中的批次）。"),
    )
    field_order = ("batch", "file")

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["file"].label = _("名单文件")
        batches = batches_open_to(user)
        self.fields["batch"].queryset = batches
        if not self.is_bound and self.initial.get("batch") is None and batches.count() == 1:
            self.initial["batch"] = batches.first().pk

    def out_of_scope(self) -> bool:
        raw = self.data.get("batch", "")
        return bool(raw) and not (
            raw.isdigit()
            and AidBatch.objects.filter(access.scope_q(AidBatch, self.user), pk=raw).exists()
        )

    def options(self) -> dict[str, Any]:
        return {"batch": self.cleaned_data["batch"].pk}


def _batch_for(user: User | None, batch_id: Any) -> AidBatch:
    if user is None or not user.has_perm(PERMISSION):
        raise PermissionDenied
    batch = (
        AidBatch.objects.filter(access.scope_q(AidBatch, user), pk=batch_id)
        .select_related("programme", "fund")
        .first()
    )
    if batch is None:
        raise importing.UploadGone
    return batch


def _choose_case(cases: list[AidCase], category: str | None) -> AidCase | None | str:
    if category:
        cases = [c for c in cases if c.category == category]
    if len(cases) == 1:
        return cases[0]
    return None if not cases else "many"


def validate(
    sheet: importing.Sheet,
    batch: AidBatch,
    user: User,
    *,
    file_name: str = "",
    progress: importing.Progress | None = None,
) -> NominationPlan:
    """Check every row against the user's people, their cases and the batch; write
    nothing. Problems (and warnings) go into ``sheet.report``."""
    plan = NominationPlan(sheet=sheet, file_name=file_name, batch=batch, user=user)
    report = sheet.report
    if sheet.header_row is None or sheet.missing_required:
        return plan
    if batch.state not in AidBatch.EDITABLE:
        report.add(
            None,
            "",
            _("批次“%(batch)s”当前为“%(state)s”，不能再添加名单。")
            % {"batch": batch.name, "state": batch.get_state_display()},
        )
        return plan
    programme = batch.programme
    rows = sheet.rows
    total = len(rows)

    # Persons by ID number (keyed hash), in the user's scope only: someone registered in
    # another township is "not found", as on every page.
    hashes: dict[int, str] = {}
    for row in rows:
        number = row.values.get("id_number")
        if row.ok and number:
            try:
                pii.parse_id_number(number)
            except ValidationError as exc:
                report.add(row.line, ID_COLUMN, exc.messages[0])
                continue
            hashes[row.line] = pii.id_hash(number)
    report.extend(
        importing.find_duplicates(
            [r for r in rows if r.line in hashes], lambda r: hashes[r.line], label=ID_COLUMN
        )
    )
    people: dict[str, Person] = {}
    wanted = sorted(set(hashes.values()))
    for start in range(0, len(wanted), 5_000):
        for person in access.scope(
            Person.objects.filter(
                id_number_hash__in=wanted[start : start + 5_000],
                merged_into__isnull=True,
                is_active=True,
            ).select_related("area"),
            user,
        ):
            people[person.id_number_hash] = person
    person_ids = [p.pk for p in people.values()]
    cases: dict[int, list[AidCase]] = {}
    fitting = AidCase.objects.filter(person_id__in=person_ids, status=AidCase.Status.OPEN)
    if programme.categories:
        fitting = fitting.filter(category__in=programme.categories)
    for case in fitting.select_related("person").order_by("category", "pk"):
        cases.setdefault(case.person_id, []).append(case)
    in_batch = {
        line.person_id: line
        for line in AidLine.objects.filter(batch=batch, person_id__in=person_ids).select_related(
            "case"
        )
    }

    bad = {issue.line for issue in report.errors}
    for done, row in enumerate(rows, 1):
        if progress is not None and done % 200 == 0:
            progress(done, total, _("正在检查第%(n)d行") % {"n": row.line})
        if not row.ok or row.line not in hashes or row.line in bad:
            continue
        planned = _plan_row(row, batch, people.get(hashes[row.line]), cases, in_batch, report)
        if planned is not None:
            plan.rows.append(planned)
    if not report.ok:
        bad = {issue.line for issue in report.errors}
        plan.rows = [r for r in plan.rows if r.line not in bad]
    new = [r for r in plan.rows if r.action == NEW]
    if new:
        plan.notes = [
            _("将提名 %(n)d 人，合计 ¥%(total)s")
            % {"n": len(new), "total": f"{sum((r.amount for r in new), Decimal(0)):,.2f}"}
        ]
    return plan


def _plan_row(row, batch, person, cases, in_batch, report) -> NominationRow | None:
    values = row.values
    programme = batch.programme
    if person is None:
        report.add(
            row.line,
            ID_COLUMN,
            _("您负责的区域内没有登记此人：请先登记，或核对身份证号码"),
        )
        return None
    if person.name != values["name"]:
        report.add(
            row.line,
            "姓名",
            _("姓名与系统中该身份证号码登记的姓名不一致（系统中为“%(name)s”）")
            % {"name": person.name},
        )
        return None
    chosen = _choose_case(cases.get(person.pk, []), values.get("category"))
    if chosen is None:
        report.add(
            row.line,
            "帮扶类别" if values.get("category") else "姓名",
            _("此人没有符合“%(programme)s”的在册帮扶档案") % {"programme": programme.name},
        )
        return None
    if chosen == "many":
        report.add(
            row.line,
            "帮扶类别",
            _("此人有多个符合本项目的在册档案，请在“帮扶类别”中注明按哪一类提名"),
        )
        return None
    case = chosen
    amount = values.get("amount") or programme.standard_for(case.hardship_level)
    if amount is None:
        report.add(row.line, "金额", _("该项目没有此人认定等级的资助标准，请填写金额"))
        return None
    id_masked = pii.mask_id_number(values["id_number"])
    existing = in_batch.get(person.pk)
    if existing is not None:
        if existing.state == AidLine.State.EXCLUDED:
            report.add(row.line, "姓名", _("此人已被剔除出本批次，不能再次导入"))
            return None
        if existing.amount != amount:
            report.add(
                row.line,
                "金额",
                _("此人已在本批次名单中，金额为 ¥%(amount)s；如需修改请在批次页面处理")
                % {"amount": f"{existing.amount:,.2f}"},
            )
            return None
        return NominationRow(
            line=row.line,
            action=UNCHANGED,
            name=person.name,
            id_masked=id_masked,
            village=person.area.name,
            case=existing.case,
            amount=amount,
        )
    try:
        services.check_case_fits(programme, case)
    except ValidationError as exc:
        report.add(row.line, "帮扶类别", exc.messages[0])
        return None
    taken = services.once_taken_by(batch, person.pk)
    if taken is not None:
        report.add(
            row.line,
            ID_COLUMN,
            _("此人本期已在该项目的其他批次（%(batch)s）中，不能重复资助") % {"batch": taken.name},
        )
        return None
    warnings = [
        str(w)
        for w in services.line_warnings(
            AidLine(batch=batch, person=person, case=case, amount=amount, fund=batch.fund)
        )
    ]
    for warning in warnings:
        report.add(row.line, "姓名", warning, warning=True)
    return NominationRow(
        line=row.line,
        action=NEW,
        changes=[_("提名")],
        name=person.name,
        id_masked=id_masked,
        village=person.area.name,
        case=case,
        amount=amount,
        reason=values.get("reason") or "",
        warnings=warnings,
    )


def commit(
    plan: NominationPlan, user: User, *, progress: importing.Progress | None = None
) -> importing.Result:
    """Add every new row through `line_add` (audited, one transaction): all or none."""
    if plan.user is None or plan.user.pk != user.pk:
        raise PermissionDenied
    if not plan.ok:
        raise ValidationError(_("文件有 %(n)d 处问题，未导入任何内容。") % {"n": len(plan.errors)})
    new = [row for row in plan.rows if row.action == NEW]
    if not new:
        return importing.Result(counts=plan.counts, written=False, rows=plan.rows)
    total = Decimal(0)
    with transaction.atomic():
        for done, row in enumerate(new, 1):
            try:
                services.line_add(
                    acting_user=user,
                    batch=plan.batch,
                    case=row.case,
                    amount=row.amount,
                    reason=row.reason,
                )
            except ValidationError as exc:
                raise ValidationError(
                    _("第%(line)d行：%(message)s")
                    % {"line": row.line, "message": "；".join(exc.messages)}
                ) from exc
            except Http404 as exc:
                raise ValidationError(
                    _("第%(line)d行：您已无权提名此人。") % {"line": row.line}
                ) from exc
            total += row.amount
            if progress is not None and done % 200 == 0:
                progress(done, len(new), _("正在导入"))
        audit_log(
            actor=user,
            verb="batch.import_nominations",
            obj=plan.batch,
            details={"file": plan.file_name, "lines": len(new), "total": str(total)},
        )
    if progress is not None:
        progress(len(new), len(new), _("导入完成"))
    return importing.Result(
        counts=plan.counts,
        notes=[_("已提名 %(n)d 人，合计 ¥%(total)s") % {"n": len(new), "total": f"{total:,.2f}"}],
        rows=plan.rows,
    )


class NominationImport(importing.ImportKind):
    name = "nominations"
    title = gettext_lazy("资助名单导入")
    permission = PERMISSION
    description = gettext_lazy(
        "把资助名单（Excel）导入到一个资助批次：按身份证号码找到您负责区域内登记的人"
        "（姓名须一致），提名其符合该项目的在册帮扶档案。金额空白按资助标准。"
    )
    upload_form = NominationUploadForm
    preview_columns = (
        (gettext_lazy("姓名"), "name"),
        (gettext_lazy("身份证号码"), "id_masked"),
        (gettext_lazy("村(社区)"), "village"),
        (gettext_lazy("帮扶类别"), "category_label"),
        (gettext_lazy("金额（元）"), "amount_text"),
        (gettext_lazy("提示"), "warnings_text"),
    )
    back_url_name = "batch_list"
    back_label = gettext_lazy("查看资助批次")
    check_download_verb = "batch.import_check"

    def spec(self, options):
        return SPEC

    def context(self, user, options) -> AidBatch:
        return _batch_for(user, options.get("batch"))

    def heading(self, options, context: AidBatch) -> str:
        return _("资助名单 · %(batch)s") % {"batch": context.name}

    def file_title(self, options) -> str:
        return _("资助名单")

    def validate(self, sheet, *, acting_user, context: AidBatch, file_name="", progress=None):
        return validate(sheet, context, acting_user, file_name=file_name, progress=progress)

    def commit(self, plan, *, acting_user, progress=None):
        return commit(plan, acting_user, progress=progress)


KIND = NominationImport()
