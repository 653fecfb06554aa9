"""Celery app for the worker integration test: the project's app plus the
test-only job kinds (tests/jobkinds.py)."""

import django

from aidcases.celery import app

django.setup()
from tests import jobkinds  # noqa: E402,F401  (after setup: it imports models)

__all__ = ["app"]
