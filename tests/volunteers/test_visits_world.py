"""The world the visit tests stand on (imported by the test_visits*/follow_ups/due/coverage
modules; no tests here): township A's team led by `leader` with two members, paired
with a 特困 person; a 留守 child of township A; township B's team and person."""

from __future__ import annotations

import io
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from aidcases.models import AidCase
from tests.factories import make_person
from tests.volunteers.factories import make_pairing, make_team, make_volunteer

TODAY = date(2026, 11, 20)


def freeze(monkeypatch, day: date) -> None:
    """Freeze Django's clock on `day` (noon, local time): timezone.localdate() follows."""
    moment = timezone.make_aware(datetime(day.year, day.month, day.day, 12, 0))
    monkeypatch.setattr(timezone, "now", lambda: moment)


def photo(name: str = "走访.jpg", colour: str = "green") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def tekun_cares(**flags) -> dict:
    cares = {
        "home_safety": ("门窗完好", False),
        "mind": ("情绪稳定", False),
        "living": ("屋内整洁", False),
        "health": ("血压偏高", False),
        "urgent": ("", False),
    }
    for key, value in flags.items():
        cares[key] = value
    return cares


@pytest.fixture
def vw(db, monkeypatch, township_a, township_b, village_a, village_b, leader, officer_a, officer_b):
    freeze(monkeypatch, TODAY)
    team = make_team(township_a, leader=leader)
    alice = make_volunteer(village_a, name="李青", team=team)
    bob = make_volunteer(village_a, name="王红", team=team)
    outsider = make_volunteer(village_a, name="赵外")
    tekun = make_person(village_a, name="张大山", category=AidCase.Category.TEKUN).cases.get()
    child = make_person(village_a, name="刘小雨", category=AidCase.Category.LEFT_BEHIND).cases.get()
    make_pairing(tekun, team, [alice, bob], started_on=date(2026, 1, 5))
    make_pairing(child, team, [alice], started_on=date(2026, 1, 5))
    team_b = make_team(township_b, name="东冶乡服务队")
    vol_b = make_volunteer(village_b, name="钱东冶", team=team_b)
    tekun_b = make_person(village_b, name="孙东冶", category=AidCase.Category.TEKUN).cases.get()
    make_pairing(tekun_b, team_b, [vol_b], started_on=date(2026, 1, 5))
    return SimpleNamespace(
        team=team,
        alice=alice,
        bob=bob,
        outsider=outsider,
        tekun=tekun,
        child=child,
        team_b=team_b,
        vol_b=vol_b,
        tekun_b=tekun_b,
    )
