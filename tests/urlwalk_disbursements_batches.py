"""URL-walk entries for the batch screens.

A batch is a county-level object that every role who nominates sees (officer A too: 200,
showing only A's lines, none here); a team leader may not see batches (404). Its lines
are township B's objects: 404 to township A's users. Actions officers may never take
answer 403 whatever the batch."""

from __future__ import annotations

from datetime import date

from aidcases.models import AidCase, Area
from tests.factories import UserFactory, make_person
from tests.urlwalk import ObjectUrl


def _batch(w):
    return {"pk": w.mbatch_batch.pk}


OBJECT_URLS = {
    "batch_detail": ObjectUrl(_batch, other_status=200, leader_status=404),
    "batch_action": ObjectUrl(
        lambda w: {"pk": w.mbatch_batch.pk, "action": "lock"},
        method="post",
        owner_status=403,
        other_status=403,
        leader_status=404,
    ),
    "batch_bulk": ObjectUrl(
        _batch, method="post", owner_status=302, other_status=302, leader_status=404
    ),
    "batch_nominate": ObjectUrl(_batch, other_status=200, leader_status=404),
    "batch_suggest": ObjectUrl(_batch, other_status=200, leader_status=404),
    "batch_publicity": ObjectUrl(_batch, owner_status=302, other_status=302, leader_status=404),
    "batch_publicity_xlsx": ObjectUrl(
        _batch, owner_status=302, other_status=302, leader_status=404
    ),
    "batch_payout_export": ObjectUrl(
        _batch, method="post", owner_status=403, other_status=403, leader_status=404
    ),
    "line_action": ObjectUrl(
        lambda w: {"pk": w.mbatch_line_b.pk, "action": "verify"},
        method="post",
        owner_status=302,
    ),
    "line_pay": ObjectUrl(lambda w: {"pk": w.mbatch_line_b.pk}, owner_status=403),
    "line_reverse": ObjectUrl(lambda w: {"pk": w.mbatch_line_b.pk}, owner_status=403),
}


def extend_world(world) -> None:
    from decimal import Decimal

    from aidcases.models import User
    from disbursements import services
    from disbursements.models import AidProgramme
    from disbursements.services import FundEntryData

    staff = UserFactory(username="mbatch_staff", role=User.Role.COUNTY_STAFF, area=world.county)
    source = services.funding_source_create(acting_user=staff, kind="charity", name="走查慈善会")
    fund = services.fund_create(acting_user=staff, name="走查助学基金")
    entry = services.fund_entry_create(
        acting_user=staff,
        data=FundEntryData(
            source=source, fund=fund, amount=Decimal("5000"), received_on=date(2026, 9, 1)
        ),
    )
    services.fund_entry_post(acting_user=staff, entry=entry)
    programme = AidProgramme.objects.create(
        name="走查助学金",
        kind="student",
        mode="one_off",
        standard_amounts={"": "500"},
        categories=["student"],
    )
    programme.funds.add(fund)
    batch = services.batch_create(
        acting_user=staff, programme=programme, name="走查批次", school_year=2026, fund=fund
    )
    case = make_person(
        world.village_b, name="周东冶", category=AidCase.Category.STUDENT
    ).cases.get()
    world.mbatch_batch = batch
    world.mbatch_line_b = services.line_add(acting_user=world.officer_b, batch=batch, case=case)
    assert world.village_b.level == Area.Level.VILLAGE
