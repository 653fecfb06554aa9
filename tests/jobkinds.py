"""Job kinds that exist only in tests: a quick one and ones that fail."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from aidcases import jobs
from aidcases.xlsx import Column, export_rows


@jobs.register("demo_echo", label="测试任务", permission="aidcases.view_areas")
def demo_echo(*, job, out, progress) -> str:
    rows = [{"n": i, "text": f"第{i}行"} for i in range(int(job.params.get("rows", 3)))]
    export_rows(
        out,
        sheet_name="测试",
        columns=[Column("序号", "n", kind="int"), Column("内容", "text")],
        rows=rows,
        progress=lambda n: progress(n, len(rows)),
    )
    return "测试.xlsx"


@jobs.register("demo_invalid", label="测试失败任务", permission="aidcases.view_areas")
def demo_invalid(*, job, out, progress) -> str:
    raise ValidationError("第3行：身份证号码校验位错误。")


@jobs.register("demo_crash", label="测试崩溃任务", permission="aidcases.view_areas")
def demo_crash(*, job, out, progress) -> str:
    raise RuntimeError("secret internal detail 140822199001011234")
