"""python manage.py import_visits FILE --township <code or name> [--dry-run] [--user USERNAME]

The same check and import as the web pages (the "visits" import kind): every row is checked
first, and either every row is imported or none. Exit status 0 with a summary line, or 1
with one line per problem ("第12行 [身份证号码] 本乡(镇)没有登记此人…").
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Q

from aidcases.importing.commands import ImportCommand
from aidcases.models import Area


class Command(ImportCommand):
    kind_name = "visits"
    help = (
        "导入服务队的走访记录（五个关爱）。"
        "先检查每一行，只要有一行有误就不导入任何内容；重复导入同一文件不会产生变化。"
    )

    def add_options(self, parser):
        parser.add_argument("--township", required=True, help="乡(镇)的区划代码或名称")

    def options(self, acting_user, *, township: str, **opts):
        found = list(
            Area.objects.filter(level=Area.Level.TOWNSHIP).filter(
                Q(code=township) | Q(name=township)
            )
        )
        if not found:
            raise CommandError(f"找不到乡(镇)：{township}（请填写区划代码或名称）")
        if len(found) > 1:
            codes = "、".join(f"{a.name}（{a.code}）" for a in found)
            raise CommandError(f"有多个乡(镇)叫“{township}”：{codes}，请改用区划代码。")
        return {"township": found[0].pk}
