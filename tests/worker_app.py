"""Celery app for the worker integration test: the project's app plus the
test-only job kinds (tests/jobkinds.py)."""

from aidcases.celery import app

import django  # noqa: E402  isort: skip

django.setup()
from tests import jobkinds  # noqa: E402,F401

__all__ = ["app"]
