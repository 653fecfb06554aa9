"""Writes of the money app, one module per concern, re-exported here."""

from disbursements.services.batches import *  # noqa: F403
from disbursements.services.funds import *  # noqa: F403
