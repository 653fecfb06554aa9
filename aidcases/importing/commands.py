"""The management-command base of every import kind: the same check and commit as the web
pages, for a file on disk.

    class Command(ImportCommand):
        kind_name = "visits"

        def add_options(self, parser): parser.add_argument("--team", required=True)
        def options(self, acting_user, **opts): return {"team": find_team(opts["team"]).pk}

Exit status 0 with a summary line on stdout; 1 with one line per problem ("第12行 [身份证号码]
校验位错误") and "未导入任何内容" when anything is wrong — nothing is written then. Warnings go
to stderr and do not stop the import. ``--dry-run`` checks only; ``--user`` names who imports
(default: the first active system admin), whose scope and permission apply as on the web.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from aidcases.importing import kinds as registry
from aidcases.importing.kinds import ImportKind, UploadGone, summary_line
from aidcases.importing.spec import Report
from aidcases.importing.workbooks import format_report_text
from aidcases.models import User


class ImportCommand(BaseCommand):
    #: The registered kind this command imports.
    kind_name: str = ""
    #: Without --user, import as the system (no acting user; the audit row names none) rather
    #: than as the first system admin: for set-up steps that run before any user exists.
    runs_as_system: bool = False

    @property
    def kind(self) -> ImportKind:
        return registry.get(self.kind_name)

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        self.add_options(parser)
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--user", help="以哪个用户的身份导入（默认：第一个启用的系统管理员）")

    def add_options(self, parser) -> None:
        """Arguments besides the file (a township, a category)."""

    def options(self, acting_user: User, **opts: Any) -> dict[str, Any]:
        """The kind's options from the arguments (raise CommandError for a bad one)."""
        return {}

    def handle(self, *args: Any, file: Path, **opts: Any) -> None:
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        kind = self.kind
        user = self.acting_user(opts.get("user"))
        options = self.options(user, **opts)
        try:
            if user is not None and not user.has_perm(kind.permission):
                raise PermissionDenied
            context = kind.context(user, options)
            with file.open("rb") as stream:
                sheet = kind.read(stream, file.name, options)
            plan = kind.validate(sheet, acting_user=user, context=context, file_name=file.name)
        except (PermissionDenied, UploadGone):
            raise CommandError(self.refused(user)) from None
        for warning in plan.report.warnings:
            self.stderr.write(str(warning))
        if not plan.ok:
            report = Report(plan.errors)
            raise CommandError(
                f"{format_report_text(report)}\n共 {len(plan.errors)} 处问题，未导入任何内容。"
            )
        if opts["dry_run"]:
            self.stdout.write(f"检查通过（试运行，未写入）：{self.preview_line(plan)}")
            return
        try:
            result = kind.commit(plan, acting_user=user)
        except ValidationError as exc:
            raise CommandError("\n".join([*exc.messages, "未导入任何内容。"])) from exc
        self.stdout.write(result.summary_line())

    @staticmethod
    def preview_line(plan: registry.Plan) -> str:
        return summary_line(plan.counts, plan.notes)

    def refused(self, user: User | None) -> str:
        who = user.username if user is not None else "系统"
        return f"用户 {who} 无权进行这项导入（{self.kind.title}）。"

    def acting_user(self, username: str | None) -> User | None:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"找不到启用的用户：{username}")
            return user
        if self.runs_as_system:
            return None
        user = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("没有启用的系统管理员，请用 --user 指定导入人。")
        return user
