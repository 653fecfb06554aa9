from django.apps import AppConfig


class DisbursementsConfig(AppConfig):
    """Funds, money in, programmes, batches, lines and payments. Scopes: money screens
    (funds, sources, entries) are county-level; a batch is visible to everyone who may
    nominate or read money, its lines only in the reader's area scope (the automatic
    person → area rule)."""

    name = "disbursements"
    verbose_name = "资金与发放"

    def ready(self) -> None:
        from django.db.models import Q

        from aidcases import access, roles
        from aidcases.audit import register_verbs
        from disbursements import (
            demo,  # noqa: F401  (registers the demo seeder)
            hooks_batches,
            hooks_funds,
            verbs,
        )
        from disbursements import models as m

        NOTHING = Q(pk__in=[])

        def money_readers(user) -> Q:
            return Q() if user.has_perm("disbursements.view_money") else NOTHING

        def batch_readers(user) -> Q:
            if user.has_perm("disbursements.view_money") or user.has_perm("disbursements.nominate"):
                return Q()
            return NOTHING

        for model in (m.FundingSource, m.Fund, m.FundEntry, m.FundMovement, m.GoodsDonation):
            access.register_scope(model, money_readers)
        for model in (m.AidProgramme, m.AidBatch, m.ApprovalBand):
            access.register_scope(model, batch_readers)
        register_verbs(verbs.LABELS)
        hooks_funds.register()
        hooks_batches.register()
        roles.register_app_permissions(
            "disbursements",
            {
                roles.Role.ADMIN: roles.ALL_ACTIONS,
                roles.Role.COUNTY_STAFF: ("add", "change", "view"),
                roles.Role.APPROVER: ("change", "view"),
                roles.Role.TOWNSHIP_OFFICER: ("view",),
                roles.Role.AUDITOR: ("view",),
            },
        )
