"""URL-walk entries of the money-in screens (sources, funds, entries, goods, programmes).

Money is county-level: township users are refused these pages whatever the id (403),
township B's own officer included; a person in a query or body is never echoed."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.urlwalk import ObjectUrl, ParamUrl


def _denied(kwargs, method: str = "get") -> ObjectUrl:
    return ObjectUrl(kwargs, owner_status=403, other_status=403, method=method)


OBJECT_URLS = {
    "source_edit": _denied(lambda w: {"pk": w.mfunds_source.pk}),
    "fund_detail": _denied(lambda w: {"pk": w.mfunds_fund.pk}),
    "fund_edit": _denied(lambda w: {"pk": w.mfunds_fund.pk}),
    "fund_deactivate": _denied(lambda w: {"pk": w.mfunds_fund.pk}, "post"),
    "fund_reactivate": _denied(lambda w: {"pk": w.mfunds_fund.pk}, "post"),
    "entry_detail": _denied(lambda w: {"pk": w.mfunds_entry.pk}),
    "entry_edit": _denied(lambda w: {"pk": w.mfunds_draft.pk}),
    "entry_post": _denied(lambda w: {"pk": w.mfunds_draft.pk}, "post"),
    "entry_cancel": _denied(lambda w: {"pk": w.mfunds_entry.pk}, "post"),
    "goods_detail": _denied(lambda w: {"pk": w.mfunds_goods.pk}),
    "goods_distribute": _denied(lambda w: {"pk": w.mfunds_goods.pk}, "post"),
    "programme_edit": _denied(lambda w: {"pk": w.mfunds_programme.pk}),
}


def _distributions(w):
    from disbursements.models import GoodsDistribution

    return GoodsDistribution.objects.count()


def _funds(w):
    from disbursements.models import Fund

    return Fund.objects.count()


PARAM_URLS = [
    ParamUrl("entry_list", lambda w, pick: {"fund": pick(w.mfunds_fund.pk)}, statuses=(403,)),
    ParamUrl("entry_create", lambda w, pick: {"fund": pick(w.mfunds_fund.pk)}, statuses=(403,)),
    ParamUrl(
        "fund_create",
        lambda w, pick: {
            "name": "东冶基金",
            "restriction": "person",
            "restricted_person": pick(w.mfunds_person.pk),
        },
        method="post",
        statuses=(403,),
        effect=_funds,
    ),
    ParamUrl(
        "goods_distribute",
        lambda w, pick: {
            "recipient": "person",
            "person": pick(w.mfunds_person.pk),
            "quantity": "1",
            "given_on": "2026-11-02",
        },
        method="post",
        kwargs=lambda w: {"pk": w.mfunds_goods.pk},
        statuses=(403,),
        effect=_distributions,
    ),
]


def extend_world(world) -> None:
    from aidcases.models import User
    from disbursements import services
    from tests.factories import UserFactory, make_person

    staff = UserFactory(username="mfunds_staff", role=User.Role.COUNTY_STAFF, area=world.county)
    world.mfunds_person = make_person(world.village_b, name="周东冶")
    world.mfunds_source = services.funding_source_create(
        acting_user=staff, kind="charity", name="东冶慈善会"
    )
    world.mfunds_fund = services.fund_create(
        acting_user=staff,
        name="东冶助学基金",
        restriction="person",
        restricted_person=world.mfunds_person,
    )

    def entry(amount: str):
        return services.fund_entry_create(
            acting_user=staff,
            data=services.FundEntryData(
                source=world.mfunds_source,
                fund=world.mfunds_fund,
                amount=Decimal(amount),
                received_on=date(2026, 9, 1),
            ),
        )

    world.mfunds_entry = services.fund_entry_post(acting_user=staff, entry=entry("500"))
    world.mfunds_draft = entry("300")
    world.mfunds_goods = services.goods_receive(
        acting_user=staff,
        data=services.GoodsData(
            source=world.mfunds_source,
            item="东冶图书",
            quantity=Decimal("10"),
            unit="册",
            unit_value=Decimal("20"),
            received_on=date(2026, 9, 1),
        ),
    )
    world.mfunds_programme = services.programme_save(
        acting_user=staff,
        data=services.ProgrammeData(
            name="东冶助学项目",
            kind="student",
            mode="one_off",
            standard_amounts={"": Decimal("500")},
            funds=[world.mfunds_fund],
        ),
    )
