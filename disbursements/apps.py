from django.apps import AppConfig


class DisbursementsConfig(AppConfig):
    """Funds, donations, aid batches, nominations and payments (filled by later issues)."""

    name = "disbursements"
    verbose_name = "资金与发放"
