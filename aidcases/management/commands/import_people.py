"""python manage.py import_people FILE --category tekun --township 城关镇 [--dry-run] [--user U]

The same check and import as the web pages (the "people" import kind): every row is checked
first, and either every row is imported or none. Exit status 0 with a summary line, or 1
with one line per problem ("第12行 [身份证号码] 校验位错误").
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db.models import Q

from aidcases.importing.commands import ImportCommand
from aidcases.models import AidCase, Area
from aidcases.people import imports


class Command(ImportCommand):
    kind_name = "people"
    help = (
        "导入帮扶对象花名册（类别见 --category）。"
        "先检查每一行，只要有一行有误就不导入任何内容；重复导入同一文件不会产生变化。"
    )

    def add_options(self, parser):
        parser.add_argument(
            "--category",
            required=True,
            choices=list(AidCase.Category.values),
            help="、".join(f"{c.value} {c.label}" for c in AidCase.Category),
        )
        parser.add_argument("--township", required=True, help="乡(镇)的区划代码或名称")

    def options(self, acting_user, *, category: str, township: str, **opts):
        try:
            imports.get(category)
        except ValueError:
            raise CommandError(f"没有“{category}”类别的花名册导入。") from None
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
        return {"category": category, "township": found[0].pk}
