from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from aidcases.areafile import read_area_rows
from aidcases.services import areas_load


class Command(BaseCommand):
    help = (
        "从 Excel 或 CSV 文件导入行政区划（列：区划代码、名称、上级区划代码）。"
        "重复导入不会产生变化。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)

    def handle(self, *args, file: Path, **options):
        if not file.exists():
            raise CommandError(f"文件不存在：{file}")
        try:
            with file.open("rb") as stream:
                rows = read_area_rows(stream, file.name)
        except ValidationError as exc:
            if len(exc.messages) == 1:
                raise CommandError(exc.messages[0]) from exc
            for message in exc.messages:
                self.stderr.write(message)
            raise CommandError(f"{len(exc.messages)} 处错误，未导入任何内容。") from exc
        result = areas_load(acting_user=None, rows=rows)
        if result.errors:
            for error in result.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(result.errors)} 处错误，未导入任何内容。")
        self.stdout.write(f"新增 {result.created}，更新 {result.updated}，未变 {result.unchanged}")
