"""The demo seed of the money app: every money screen gets data (sources, funds with posted
income, goods, two programmes, batches draft / in 公示 / paid), and a second run changes
nothing."""

from __future__ import annotations

import random

import pytest
from django.urls import reverse

from aidcases.models import AidCase, AuditEvent
from disbursements import demo
from disbursements.models import (
    AidBatch,
    AidLine,
    AidProgramme,
    Fund,
    FundEntry,
    FundingSource,
    FundMovement,
    GoodsDistribution,
    GoodsDonation,
)
from tests.factories import make_person

pytestmark = pytest.mark.django_db

MODELS = (
    FundingSource,
    Fund,
    FundEntry,
    FundMovement,
    GoodsDonation,
    GoodsDistribution,
    AidProgramme,
    AidBatch,
    AidLine,
    AuditEvent,
)


def counts() -> tuple:
    return tuple(model.objects.count() for model in MODELS)


def test_the_money_seed_fills_every_screen_and_runs_once(
    admin, county, county_staff, approver, officer_a, officer_b, village_a, village_b,
    client_for, monkeypatch,
):  # fmt: skip
    for n in range(16):
        village = village_a if n % 2 else village_b
        make_person(village, name=f"学生{n}", category=AidCase.Category.STUDENT)
        make_person(village, name=f"特困{n}", category=AidCase.Category.TEKUN)
    # The test county stands in for the demo's.
    monkeypatch.setattr(demo, "COUNTY_PATH", county.path)

    summary = demo.seed_money(admin, random.Random("money"))

    assert "资助项目 2 个、批次 3 个" in summary, summary
    assert FundingSource.objects.count() == 6
    assert {f.name: f.income for f in Fund.objects.all()} == {
        "爱心助学基金": 255000,
        "金秋助学专项资金": 80000,
        "特困人员关爱资金": 60000,
    }
    assert FundEntry.objects.filter(state="draft").count() == 1
    assert GoodsDistribution.objects.filter(person__isnull=False).count() == 6
    states = dict(AidBatch.objects.values_list("state", "programme__mode"))
    assert set(states) == {"paid", "in_publicity", "draft"}
    paid = AidBatch.objects.get(state="paid")
    assert paid.lines.filter(state="paid").count() == paid.lines.count() - 1
    assert paid.lines.filter(state="failed").count() == 1
    # nominated by the township officers, approved by the approver
    assert set(paid.lines.values_list("nominated_by__username", flat=True)) == {
        officer_a.username,
        officer_b.username,
    }
    assert paid.approvals.get().approver == approver
    fund = Fund.objects.get(name="爱心助学基金")
    assert fund.paid == sum(line.amount for line in paid.lines.filter(state="paid"))
    assert fund.balance >= 0 and fund.committed == 0

    client = client_for(county_staff)
    for url in (
        reverse("fund_list"),
        reverse("fund_detail", args=[fund.pk]),
        reverse("entry_list"),
        reverse("goods_list"),
        reverse("source_list"),
        reverse("programme_list"),
        reverse("batch_list"),
        *(batch.get_absolute_url() for batch in AidBatch.objects.all()),
        reverse("batch_publicity", args=[AidBatch.objects.get(state="in_publicity").pk]),
    ):
        assert client.get(url).status_code == 200, url

    before = counts()
    again = demo.seed_money(admin, random.Random("money"))
    assert "跳过" in again
    assert counts() == before
