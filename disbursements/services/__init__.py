"""Writes of the money app, one module per concern, re-exported here."""

from disbursements.services.batches import *  # noqa: F403
from disbursements.services.funds import *  # noqa: F403
from disbursements.services.goods import *  # noqa: F403
from disbursements.services.money_in import *  # noqa: F403
from disbursements.services.programmes import *  # noqa: F403
from disbursements.services.reconciliation import *  # noqa: F403
