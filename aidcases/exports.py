"""Excel exports of the hub app, run as jobs."""

from __future__ import annotations

from typing import IO

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from aidcases import access, jobs
from aidcases.audit import audit_log
from aidcases.models import Job
from aidcases.xlsx import Column, export_rows

AUDIT_COLUMNS = [
    Column("时间", "at", kind="datetime"),
    Column("操作人", lambda e: str(e.actor) if e.actor_id else "系统"),
    Column("登录名", "actor.username"),
    Column("操作", lambda e: e.verb_label),
    Column("对象类型", lambda e: e.object_type.name if e.object_type_id else ""),
    Column("对象", "object_repr", width=30),
    Column("区域", "area.name"),
    Column("IP地址", "ip"),
    Column("详情", lambda e: _details_text(e.details), width=50),
]


def _details_text(details: dict) -> str:
    return "；".join(f"{k}: {v}" for k, v in (details or {}).items())


@jobs.register("audit_export", label=_("导出审计日志"), permission="aidcases.export_audit")
def export_audit_events(*, job: Job, out: IO[bytes], progress: jobs.Progress) -> str:
    from aidcases.filters import AuditEventFilter

    user = job.requested_by
    queryset = AuditEventFilter(job.params, queryset=access.audit_events_for(user)).qs
    total = queryset.count()
    progress(0, total, "正在导出审计日志")
    count = export_rows(
        out,
        sheet_name="审计日志",
        columns=AUDIT_COLUMNS,
        rows=queryset.iterator(chunk_size=2000),
        title=f"审计日志（导出时间 {timezone.localtime():%Y-%m-%d %H:%M}）",
        landscape=True,
        progress=lambda n: progress(n, total),
    )
    # An export is itself an audited act (it carries who-did-what data out).
    audit_log(actor=user, verb="audit.export", obj=job, details={"rows": count, **job.params})
    return f"审计日志_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
