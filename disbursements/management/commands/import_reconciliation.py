"""python manage.py import_reconciliation FILE --batch <id> [--dry-run] [--user USERNAME]

The bank's result file (回盘) for a released or paid batch, checked and imported as on the
web pages (the "reconciliation" import kind): every row is matched to a line first, and
either every row is applied or none. Exit status 0 with a summary line, or 1 with one line
per problem ("第7行 [户名] 本批次名单中没有“王五”").
"""

from __future__ import annotations

from django.core.management.base import CommandError

from aidcases.importing.commands import ImportCommand
from disbursements.models import AidBatch


class Command(ImportCommand):
    kind_name = "reconciliation"
    help = (
        "导入银行回盘文件（代发结果）：成功的标记为已发放，失败的标记为发放失败，处理中的保持待发放。"
        "先检查每一行，只要有一行有误就不导入任何内容；重复导入同一文件不会有任何改动。"
    )

    def add_options(self, parser):
        parser.add_argument("--batch", required=True, help="资助批次的编号（ID）")

    def options(self, acting_user, *, batch: str, **opts):
        if not batch.isdigit() or not AidBatch.objects.filter(pk=int(batch)).exists():
            raise CommandError(f"找不到资助批次：{batch}（请填写批次编号）")
        return {"batch": int(batch)}
