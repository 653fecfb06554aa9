"""python manage.py import_nominations FILE --batch <id> [--dry-run] [--user USERNAME]

The same check and import as the web pages (the "nominations" import kind): every row is
checked first, and either every row is nominated or none. Exit status 0 with a summary
line, or 1 with one line per problem ("第7行 [身份证号码] 您负责的区域内没有登记此人…").
"""

from __future__ import annotations

from django.core.management.base import CommandError

from aidcases.importing.commands import ImportCommand
from disbursements.models import AidBatch


class Command(ImportCommand):
    kind_name = "nominations"
    help = (
        "把资助名单（Excel）导入到一个资助批次。先检查每一行，只要有一行有误就不导入任何内容；"
        "重复导入同一文件不会重复提名。"
    )

    def add_options(self, parser):
        parser.add_argument("--batch", required=True, help="资助批次的编号（ID）")

    def options(self, acting_user, *, batch: str, **opts):
        if not batch.isdigit() or not AidBatch.objects.filter(pk=int(batch)).exists():
            raise CommandError(f"找不到资助批次：{batch}（请填写批次编号）")
        return {"batch": int(batch)}
