"""Hub registrations for the imports concern: the visit-record import kind ("visits") and its
permission, audit verb labels, and the demo seed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


def register() -> None:
    import rules

    from aidcases import importing
    from aidcases.audit import VERBS, register_verbs
    from aidcases.rules import is_admin, is_county_staff, is_township_officer
    from volunteers import (
        demo,  # noqa: F401  (registers the demo seeder)
        visit_import,
    )

    # Township officers collect the teams' sheets; county roles may import for any township.
    # Team leaders record visits on the phone form instead.
    if not rules.perm_exists(visit_import.PERMISSION):
        rules.add_perm(visit_import.PERMISSION, is_admin | is_county_staff | is_township_officer)
    try:
        importing.get(visit_import.KIND.name)
    except LookupError:
        importing.register(visit_import.KIND)
    labels = {
        "visit.import": _("导入走访记录"),
        "visit.import_check": _("下载走访记录导入检查表"),
        "visit.create": _("新增走访记录"),
        "follow_up.create": _("新建跟进事项"),
        "team.create": _("新建服务队"),
        "volunteer.create": _("新增志愿者"),
    }
    # Another concern's own label for a shared verb wins.
    register_verbs({verb: label for verb, label in labels.items() if verb not in VERBS})
