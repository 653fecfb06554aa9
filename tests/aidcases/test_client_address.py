"""Which client address the audit log and the login lockout believe: X-Forwarded-For only
from the configured number of proxies (TRUSTED_PROXY_COUNT), the same for both."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse

from aidcases.middleware import client_ip
from aidcases.models import AuditEvent

FORGED = "198.51.100.66"


def request(forwarded: str | None, remote: str = "10.0.0.2"):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_without_a_trusted_proxy_the_header_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request(FORGED)) == "10.0.0.2"


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        # One proxy appends what it saw: a forged first entry is not believed.
        (1, f"{FORGED}, 203.0.113.9", "203.0.113.9"),
        (1, "203.0.113.9", "203.0.113.9"),
        # Two proxies: the client as the outer proxy saw it.
        (2, f"{FORGED}, 203.0.113.9, 10.0.0.5", "203.0.113.9"),
        # Fewer hops than proxies: the request did not come through them; the socket counts.
        (2, "203.0.113.9", "10.0.0.2"),
        (1, None, "10.0.0.2"),
    ],
)
def test_only_the_trusted_proxies_entries_count(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count

    assert client_ip(request(forwarded)) == expected


def test_a_forged_header_does_not_reach_the_audit_log(settings, client, admin):
    settings.TRUSTED_PROXY_COUNT = 1
    admin.set_password("correct-horse-9")
    admin.save()

    client.post(
        reverse("login"),
        {"username": admin.username, "password": "correct-horse-9"},
        HTTP_X_FORWARDED_FOR=f"{FORGED}, 203.0.113.9",
        REMOTE_ADDR="10.0.0.2",
    )

    assert AuditEvent.objects.get(verb="auth.login").ip == "203.0.113.9"


def test_the_lockout_counts_by_the_same_address(settings):
    from axes.helpers import get_client_ip_address

    settings.TRUSTED_PROXY_COUNT = 1

    assert get_client_ip_address(request(f"{FORGED}, 203.0.113.9")) == "203.0.113.9"
