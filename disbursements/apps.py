from django.apps import AppConfig


class DisbursementsConfig(AppConfig):
    """Funds, donations, aid batches, nominations and payments (filled by later issues)."""

    name = "disbursements"
    verbose_name = "资金与发放"

    def ready(self) -> None:
        from aidcases import roles

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
