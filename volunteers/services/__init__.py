"""Writes of the volunteers app, one module per concern, re-exported here."""

from volunteers.services.activities import *  # noqa: F403
from volunteers.services.pairings import *  # noqa: F403
from volunteers.services.teams import *  # noqa: F403
from volunteers.services.visits import *  # noqa: F403
