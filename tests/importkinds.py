"""An import kind that exists only in tests: "notes", a code and a text per row, kept as
audit rows. It declares a spec, validate, commit, a title and a permission — no view, URL,
template, job or command code — and must get the whole upload → check → preview → confirm
→ job flow from ``aidcases.importing``."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from aidcases import importing
from aidcases.audit import audit_log
from aidcases.importing.commands import ImportCommand
from aidcases.models import AuditEvent

NOTE_VERB = "test.note"

SPEC = importing.Spec(
    title="测试记录",
    columns=(
        importing.Column("code", "编号", ("记录编号",), required=True, example="A1"),
        importing.Column(
            "text", "内容", ("记录内容",), required=True, parse=importing.limited(20), example="好"
        ),
    ),
)


def notes_on_file() -> dict[str, str]:
    """code → text, the newest row of each code."""
    found: dict[str, str] = {}
    for details in (
        AuditEvent.objects.filter(verb=NOTE_VERB)
        .order_by("at", "pk")
        .values_list("details", flat=True)
    ):
        found[details["code"]] = details["text"]
    return found


@dataclass(kw_only=True)
class NoteRow(importing.PlanRow):
    code: str
    text: str


class NotesImport(importing.ImportKind):
    name = "notes"
    title = "测试记录导入"
    permission = "aidcases.import_people"
    job_rows = 10  # small, so that a ten-row file (with its title lines) goes through the jobs
    preview_columns = (("编号", "code"), ("内容", "text"))

    def spec(self, options):
        return SPEC

    def validate(self, sheet, *, acting_user, context, file_name="", progress=None):
        plan = importing.Plan(sheet=sheet, file_name=file_name)
        sheet.report.extend(importing.find_duplicates(sheet.rows, "code", label="编号"))
        on_file = notes_on_file()
        for done, row in enumerate(sheet.rows, start=1):
            if progress is not None:
                progress(done, len(sheet.rows), f"正在检查第 {row.line} 行")
            if row.values["text"] == "坏":
                sheet.report.add(row.line, "内容", "内容不能是“坏”")
            if row.errors or sheet.report.for_line(row.line):
                continue
            code, text = row.values["code"], row.values["text"]
            if code not in on_file:
                action, changes = importing.NEW, []
            elif on_file[code] != text:
                action, changes = importing.UPDATED, ["内容"]
            else:
                action, changes = importing.UNCHANGED, []
            plan.rows.append(
                NoteRow(line=row.line, action=action, changes=changes, code=code, text=text)
            )
        if not sheet.report.ok:
            plan.rows = []
        return plan

    def commit(self, plan, *, acting_user, progress=None):
        if not plan.ok:
            raise ValidationError("文件有问题，未导入任何内容。")
        todo = [row for row in plan.rows if row.action != importing.UNCHANGED]
        with transaction.atomic():
            for done, row in enumerate(todo, start=1):
                audit_log(
                    actor=acting_user, verb=NOTE_VERB, details={"code": row.code, "text": row.text}
                )
                if progress is not None:
                    progress(done, len(todo), "")
        return importing.Result(counts=plan.counts, written=bool(todo), rows=plan.rows)


importing.register(NotesImport())


class NotesCommand(ImportCommand):
    """What ``management/commands/import_notes.py`` would hold."""

    kind_name = "notes"
