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
    PROGRESS_EVERY,
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
    last = 0
    try:
        with transaction.atomic(), services.acting(user):
            handler.before_commit(ctx, user)
            new_rows = [row for row in todo if row.action == NEW]
            for batch in chunks(new_rows, BATCH):
                _register_batch(batch, ctx=ctx, handler=handler, user=user)
                done += len(batch)
                if progress is not None:
                    progress(done, total, _("已导入 %(n)d 行") % {"n": done})
                last = done
            for row in todo:
                if row.action != UPDATED:
                    continue
                try:
                    _update_row(row, ctx=ctx, handler=handler, user=user)
                except ValidationError as exc:
                    raise _row_error(row.line, exc) from exc
                done += 1
                if progress is not None and done - last >= PROGRESS_EVERY:
                    progress(done, total, _("已导入 %(n)d 行") % {"n": done})
                    last = done
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


def _update_row(row: PlanRow, *, ctx: Context, handler: ProfileHandler, user: User) -> None:
    """An existing person: one service call per thing that changes (each audited)."""
    person = row.person
    assert person is not None
    if row.person_changed:
        services.person_update(acting_user=user, person=person, data=row.person_data)
        person.area = row.person_values["area"]
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
