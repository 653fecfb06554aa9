"""What the hub shows of the money-in screens: the 资金 navigation entry, the audit verb
labels of the new writes, and a home card for money readers. Called from apps.ready()."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VERB_LABELS = {
    "funding_source.update": _("修改资金来源"),
    "fund_entry.update": _("修改入账草稿"),
    "fund.update": _("修改专项资金"),
    "fund.deactivate": _("停用专项资金"),
    "fund.reactivate": _("重新启用专项资金"),
    "goods.receive": _("登记捐赠物资"),
    "goods.distribute": _("发放捐赠物资"),
    "programme.create": _("新增资助项目"),
    "programme.update": _("修改资助项目"),
}


def money_card(user):
    """Total balance of the active funds and the money posted in this year."""
    from django.urls import reverse
    from django.utils import timezone
    from django.utils.translation import gettext as _g

    from disbursements.selectors import funds as selectors

    if not user.has_perm("disbursements.view_money"):
        return None
    totals = selectors.fund_totals(user=user)
    this_year = selectors.money_in_this_year(user=user)
    return {
        "title": _g("资金余额"),
        "value": f"¥{totals['balance']:,.2f}",
        "note": _g("%(year)s年到账 ¥%(amount)s")
        % {"year": timezone.localdate().year, "amount": f"{this_year:,.2f}"},
        "url": reverse("fund_list"),
    }


def register() -> None:
    from aidcases.audit import register_verbs
    from aidcases.context_processors import register_nav
    from aidcases.dashboard import register_card

    for name, label, order in (
        ("fund_list", _("专项资金"), 62),
        ("entry_list", _("资金入账"), 63),
        ("goods_list", _("捐赠物资"), 64),
        ("source_list", _("资金来源"), 65),
        ("programme_list", _("资助项目"), 66),
    ):
        register_nav(name, label, "disbursements.view_money", order=order, group=_("资金发放"))
    register_verbs(VERB_LABELS)
    register_card(money_card)
