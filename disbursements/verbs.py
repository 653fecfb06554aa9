"""Audit verb labels of the money app."""

from django.utils.translation import gettext_lazy as _

LABELS = {
    "funding_source.create": _("新增资金来源"),
    "fund.create": _("新增专项资金"),
    "fund_entry.create": _("登记入账（草稿）"),
    "fund_entry.post": _("确认入账"),
    "fund_entry.cancel": _("冲销入账"),
    "batch.create": _("新建资助批次"),
    "batch.verifying": _("批次提交审验"),
    "batch.locked": _("锁定名单"),
    "batch.in_approval": _("批次提交审批"),
    "batch.approve": _("审批同意"),
    "batch.reject": _("审批退回"),
    "batch.revise": _("修改已锁定名单"),
    "batch.in_publicity": _("开始公示"),
    "batch.released": _("下达发放"),
    "batch.paid": _("批次发放完成"),
    "batch.closed": _("批次结项"),
    "batch.aborted": _("终止批次"),
    "aid_line.add": _("提名资助对象"),
    "aid_line.exclude": _("剔除资助对象"),
    "aid_line.verify": _("核查资助对象"),
    "aid_line.pay": _("标记已发放"),
    "aid_line.fail": _("标记发放失败"),
    "aid_line.reverse": _("冲正"),
}
