"""What the batch screens register with the hub: the navigation entry, the 一人一档
section, the audit verbs of the downloads, the nomination list import (the hub's upload
flow: /imports/nominations/), and the one permission the navigation needs
(who sees batches: whoever reads money or nominates). Called from DisbursementsConfig.ready()."""

from __future__ import annotations

import rules
from django.utils.translation import gettext_lazy as _

VERBS = {
    "batch.import_nominations": _("导入资助名单"),
    "batch.import_check": _("下载资助名单导入检查表"),
    "batch.publicity_export": _("下载公示名单"),
    "batch.payout_export": _("导出发放名单"),
    "batch.payout_reveal": _("导出发放名单（含完整身份证号码）"),
}


def register() -> None:
    from aidcases import importing
    from aidcases.audit import register_verbs
    from aidcases.context_processors import register_nav
    from aidcases.rules import (
        is_admin,
        is_approver,
        is_auditor,
        is_county_staff,
        is_township_officer,
    )
    from disbursements import (
        archive,
        exports,  # noqa: F401  (registers the payout list's job kind)
        nomination_import,
        reconciliation_import,
    )

    if not rules.perm_exists("disbursements.view_batches"):
        # the union of disbursements.view_money and disbursements.nominate
        rules.add_perm(
            "disbursements.view_batches",
            is_admin | is_county_staff | is_approver | is_auditor | is_township_officer,
        )
    register_nav(
        "batch_list", _("资助批次"), "disbursements.view_batches", order=60, group=_("资金发放")
    )
    register_verbs(VERBS)
    archive.register_sections()
    try:
        importing.get(nomination_import.KIND.name)
    except LookupError:
        importing.register(nomination_import.KIND)
    reconciliation_import.register()  # the bank's result file: /imports/reconciliation/
