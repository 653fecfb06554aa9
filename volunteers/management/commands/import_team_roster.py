"""python manage.py import_team_roster FILE --team <id or name> [--dry-run] [--user USERNAME]

The same check and import as the web pages (the "team_roster" import kind): every row is
checked first, and either every row is imported or none. Exit status 0 with a summary line,
or 1 with one line per problem ("第5行 [出生日期] 入队时未满18周岁……").
"""

from __future__ import annotations

from django.core.management.base import CommandError

from aidcases.importing.commands import ImportCommand
from volunteers.models import Team


class Command(ImportCommand):
    kind_name = "team_roster"
    help = (
        "导入一个服务队的志愿者名册。先检查每一行，只要有一行有误就不导入任何内容；"
        "重复导入同一文件不会产生变化。"
    )

    def add_options(self, parser):
        parser.add_argument("--team", required=True, help="服务队的编号（ID）或名称")

    def options(self, acting_user, *, team: str, **opts):
        found = list(Team.objects.filter(pk=int(team))) if team.isdigit() else []
        if not found:
            found = list(Team.objects.filter(name=team).select_related("area"))
        if not found:
            raise CommandError(f"找不到服务队：{team}（请填写服务队编号或名称）")
        if len(found) > 1:
            listed = "、".join(f"{t.name}（{t.area.name}，编号 {t.pk}）" for t in found)
            raise CommandError(f"有多个服务队叫“{team}”：{listed}，请改用编号。")
        return {"team": found[0].pk}
