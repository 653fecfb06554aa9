"""Writes of the money app, one module per concern, re-exported here."""

from disbursements.services.funds import *  # noqa: F403
