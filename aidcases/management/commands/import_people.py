"""python manage.py import_people 花名册.xlsx --category student --township 城关镇 [--dry-run]

The same check and import as the web screen (aidcases.people_import): every row is checked
first, and either every row is imported or none. Exit status 0 with a summary line, or 1
with one line per problem ("第12行 [身份证号码] 校验位错误").
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from aidcases import importing, people_import
from aidcases.models import AidCase, Area, User


class Command(BaseCommand):
    help = (
        "导入帮扶对象花名册（困难学生 student / 特困人员 tekun / 留守儿童 left_behind）。"
        "先检查每一行，只要有一行有误就不导入任何内容；重复导入同一文件不会产生变化。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--category", required=True, choices=[c for c in AidCase.Category.values]
        )
        parser.add_argument("--township", required=True, help="乡(镇)的区划代码或名称")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--user", help="以哪个用户的身份导入（默认：第一个启用的系统管理员）")

    def handle(self, *args, file: Path, category: str, township: str, **options):
        if not file.is_file():
            raise CommandError(f"文件不存在：{file}")
        user = self._user(options.get("user"))
        area = self._township(township)
        with file.open("rb") as stream:
            sheet = people_import.read(stream, file.name, category)
        try:
            plan = people_import.validate(sheet, category, area, user, file_name=file.name)
        except PermissionDenied:
            raise CommandError(f"用户 {user.username} 无权导入到{area.name}。") from None
        for warning in plan.report.warnings:
            self.stderr.write(str(warning))
        if not plan.ok:
            report = importing.Report(plan.errors)
            raise CommandError(
                f"{importing.format_report_text(report)}\n"
                f"共 {len(plan.errors)} 处问题，未导入任何内容。"
            )
        if options["dry_run"]:
            self.stdout.write(f"检查通过（试运行，未写入）：{plan.summary_line(done=False)}")
            return
        try:
            result = people_import.commit(plan, user)
        except ValidationError as exc:
            raise CommandError("\n".join([*exc.messages, "未导入任何内容。"])) from exc
        self.stdout.write(result.summary_line())

    def _user(self, username: str | None) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise CommandError(f"找不到启用的用户：{username}")
            return user
        user = User.objects.filter(role=User.Role.ADMIN, is_active=True).order_by("pk").first()
        if user is None:
            raise CommandError("没有启用的系统管理员，请用 --user 指定导入人。")
        return user

    def _township(self, value: str) -> Area:
        found = list(
            Area.objects.filter(level=Area.Level.TOWNSHIP).filter(Q(code=value) | Q(name=value))
        )
        if not found:
            raise CommandError(f"找不到乡(镇)：{value}（请填写区划代码或名称）")
        if len(found) > 1:
            codes = "、".join(f"{a.name}（{a.code}）" for a in found)
            raise CommandError(f"有多个乡(镇)叫“{value}”：{codes}，请改用区划代码。")
        return found[0]
