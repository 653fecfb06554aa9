"""Audit verbs and their Chinese labels. Leaf apps add theirs with ``register_verbs`` in
``AppConfig.ready()``. Apart from ``audit`` (which writes events) so that the models can name a
verb without importing the writer."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

# Verb → Chinese label. Leaf apps add theirs with `register_verbs` in AppConfig.ready().
VERBS: dict[str, Any] = {
    "auth.login": _("登录"),
    "auth.logout": _("退出登录"),
    "auth.login_failed": _("登录失败"),
    "auth.password_change": _("修改密码"),
    "user.create": _("新建用户"),
    "user.update": _("修改用户"),
    "user.deactivate": _("停用用户"),
    "user.activate": _("启用用户"),
    "user.password_reset": _("重置密码"),
    "area.load": _("导入行政区划"),
    "job.create": _("创建后台任务"),
    "job.download": _("下载导出文件"),
    "audit.export": _("导出审计日志"),
    "person.create": _("登记帮扶对象"),
    "person.update": _("修改帮扶对象"),
    "person.view": _("查看一人一档"),
    "person.reveal": _("查看完整证件号/电话"),
    "person.search_id": _("按身份证号码查询"),
    "person.id_registered_elsewhere": _("登记时查到其他乡镇已登记的身份证号码"),
    "person.activate": _("恢复帮扶对象"),
    "person.deactivate": _("停用帮扶对象"),
    "person.merge": _("合并重复记录"),
    "person.distinct": _("确认非重复"),
    "person.import": _("导入花名册"),
    "person.export": _("导出帮扶对象名单"),
    "case.open": _("新建帮扶档案"),
    "case.update": _("修改帮扶档案"),
    "case.close": _("帮扶档案结案"),
    "case.profile": _("修改档案详情"),
    "attachment.add": _("上传附件"),
    "attachment.remove": _("删除附件"),
    "attachment.download": _("下载附件"),
    "person.photo": _("设置照片"),
}


def register_verbs(verbs: dict[str, Any]) -> None:
    VERBS.update(verbs)


def verb_label(verb: str) -> str:
    return str(VERBS.get(verb, verb))
