"""Writing a checked roster: all rows or none, in one transaction."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils.translation import gettext as _

from aidcases import importing, services
from aidcases.audit import audit_log
from aidcases.importing import NEW, UNCHANGED, UPDATED, Progress, Result
from aidcases.models import User
from aidcases.people.imports.categories import Context, ProfileHandler, get
from aidcases.people.imports.plan import (
    Plan,
    PlanRow,
    chunks,
    person_error_issues,
    require_import,
)

BATCH = 2_000


def _row_error(line: int, exc: ValidationError) -> ValidationError:
    issues = (
        person_error_issues(line, exc, set())
        if hasattr(exc, "error_dict")
        else [importing.Issue(line, "", message) for message in exc.messages]
    )
    return ValidationError([str(issue) for issue in issues])


def commit(plan: Plan, user: User, *, progress: Progress | None = None) -> Result:
    """Write a validated plan in one transaction: all rows or none.

    Writes nothing at all (not even the import's own audit row) when every row is
    unchanged. Raises ValidationError (messages name the row) when something no longer
    holds — the transaction is then rolled back.
    """
    require_import(user, plan.township)
    if plan.user.pk != user.pk:
        raise PermissionDenied
    if not plan.ok:
        raise ValidationError(_("文件有 %(n)d 处问题，未导入任何内容。") % {"n": len(plan.errors)})
    entry = get(plan.category)
    handler = entry.handler
    ctx = plan.context
    assert ctx is not None
    todo = [row for row in plan.rows if row.action != UNCHANGED]
    counts = plan.counts
    if not todo:
        return Result(counts=counts, written=False, rows=plan.rows)
    total = len(todo)
    done = 0
    try:
        with transaction.atomic(), services.acting(user):
            handler.before_commit(ctx, user)
            new_rows = [row for row in todo if row.action == NEW]
            for batch in chunks(new_rows, BATCH):
                _register_batch(batch, ctx=ctx, handler=handler, user=user)
                done += len(batch)
                if progress is not None:
                    progress(done, total, _("已导入 %(n)d 行") % {"n": done})
            updated_rows = [row for row in todo if row.action == UPDATED]
            for batch in chunks(updated_rows, BATCH):
                _update_batch(batch, ctx=ctx, handler=handler, user=user)
                done += len(batch)
                if progress is not None:
                    progress(done, total, _("已导入 %(n)d 行") % {"n": done})
            audit_log(
                actor=user,
                verb="person.import",
                obj=plan.township,
                area=plan.township,
                details={
                    "file": plan.file_name,
                    "category": plan.category,
                    "township": plan.township.code,
                    "new": counts[NEW],
                    "updated": counts[UPDATED],
                    "unchanged": counts[UNCHANGED],
                    **handler.audit_details(ctx),
                },
            )
    except (IntegrityError, DataError) as exc:
        # Someone registered one of these persons between the check and now (or a value
        # the checks let through does not fit its column).
        raise ValidationError(
            _("导入时发现其中有人刚被别人登记或修改，未导入任何内容，请重新上传检查后再导入。")
        ) from exc
    if progress is not None:
        progress(total, total, _("导入完成"))
    return Result(counts=counts, notes=handler.notes(ctx, done=True), written=True, rows=plan.rows)


def _update_batch(
    rows: list[PlanRow], *, ctx: Context, handler: ProfileHandler, user: User
) -> None:
    """Existing persons: their own fields through the batch service (what
    person_update writes, audit and history included), then a case or profile
    that is new or changed through the per-row services."""
    changed = [row for row in rows if row.person_changed]
    entries = []
    for row in changed:
        # Checked again as person_update would (a plan may be older than the rules);
        # the IDs were all looked up at validate, the unique constraint guards the rest.
        try:
            values = services.person_clean(
                row.person_data, existing=row.person, check_registered=False
            )
        except ValidationError as exc:
            raise _row_error(row.line, exc) from exc
        entries.append(services.PersonUpdateEntry(person=row.person, values=values))
    if entries:
        services.people_update_batch(acting_user=user, entries=entries)
        for row in changed:
            row.person.area = row.person_values["area"]
    for row in rows:
        if row.case is not None and not (row.case_changed or row.profile_changed):
            continue
        try:
            _update_row(row, ctx=ctx, handler=handler, user=user)
        except ValidationError as exc:
            raise _row_error(row.line, exc) from exc


def _update_row(row: PlanRow, *, ctx: Context, handler: ProfileHandler, user: User) -> None:
    """An existing person's case and profile (the person's own fields are
    written by `_update_batch`): one service call per thing that changes."""
    person = row.person
    assert person is not None
    case = row.case
    if case is None:
        case = services.case_open(
            acting_user=user,
            person=person,
            category=ctx.category,
            hardship_level=row.case_values["hardship_level"],
            flags=row.case_values["flags"],
            notes=row.case_values["notes"],
        )
        handler.save(ctx, user, case, row.profile)
        return
    case.person = person
    if row.case_changed:
        services.case_update(acting_user=user, case=case, **row.case_values)
    if row.profile_changed:
        handler.save(ctx, user, case, row.profile)


def _register_batch(
    rows: list[PlanRow], *, ctx: Context, handler: ProfileHandler, user: User
) -> None:
    """Brand-new persons with their case and profile, through the batch service."""
    services.people_register_batch(
        acting_user=user,
        category=ctx.category,
        entries=[
            services.NewPersonEntry(
                person_values=row.person_values,
                hardship_level=row.case_values["hardship_level"],
                flags=row.case_values["flags"],
                notes=row.case_values["notes"],
                build_profile=lambda case, row=row: handler.build(ctx, case, row.profile),
            )
            for row in rows
        ],
    )
