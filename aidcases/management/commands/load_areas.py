"""python manage.py load_areas 区划.xlsx [--dry-run] [--user USERNAME]

The area tree from a file (区划代码, 名称, 上级区划代码): the "areas" import kind, the same
check and load as the web page. All or nothing; loading the same file again changes nothing.
Without --user it loads as the system (the first set-up step, before any user exists).
"""

from aidcases.importing.commands import ImportCommand


class Command(ImportCommand):
    kind_name = "areas"
    runs_as_system = True
    help = (
        "从 Excel 或 CSV 文件导入行政区划（列：区划代码、名称、上级区划代码）。"
        "只要有一行有误就不导入任何内容；重复导入不会产生变化。"
    )
