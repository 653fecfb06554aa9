"""物资 (goods in kind): received from a source, handed to people or schools.

Goods count in totals as their estimated value, never as cash: no fund's totals change.
A donation is never over-distributed: each distribution locks the donation row and
checks what is left before it writes (two officers handing out the last boxes at once
cannot both have them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from aidcases.audit import audit_log
from aidcases.models import Person, User
from aidcases.services.common import require_area, require_perm
from disbursements.models import FundingSource, GoodsDistribution, GoodsDonation

__all__ = ["GoodsData", "goods_distribute", "goods_left", "goods_receive"]

ZERO = Decimal("0")


@dataclass(frozen=True)
class GoodsData:
    source: FundingSource
    item: str
    quantity: Decimal
    unit: str
    unit_value: Decimal
    received_on: date
    notes: str = ""


@transaction.atomic
def goods_receive(*, acting_user: User, data: GoodsData) -> GoodsDonation:
    require_perm(acting_user, "disbursements.manage_funds")
    if data.received_on > timezone.localdate():
        raise ValidationError({"received_on": _("接收日期不能晚于今天。")})
    donation = GoodsDonation(
        source=data.source,
        item=data.item.strip(),
        quantity=data.quantity,
        unit=data.unit.strip(),
        unit_value=data.unit_value,
        received_on=data.received_on,
        notes=data.notes.strip(),
        created_by=acting_user,
    )
    if donation.quantity is not None and donation.quantity <= 0:
        raise ValidationError({"quantity": _("数量必须大于0。")})
    if donation.unit_value is not None and donation.unit_value < 0:
        raise ValidationError({"unit_value": _("估价单价不能为负数。")})
    donation.full_clean()
    donation.save()
    audit_log(
        actor=acting_user,
        verb="goods.receive",
        obj=donation,
        details={
            "quantity": str(donation.quantity),
            "unit": donation.unit,
            "value": str(donation.estimated_value),
            "source": donation.source_id,
        },
    )
    return donation


def goods_left(donation: GoodsDonation) -> Decimal:
    given = donation.distributions.aggregate(total=Sum("quantity"))["total"] or ZERO
    return donation.quantity - given


@transaction.atomic
def goods_distribute(
    *,
    acting_user: User,
    donation: GoodsDonation,
    quantity: Decimal,
    given_on: date,
    person: Person | None = None,
    school_name: str = "",
) -> GoodsDistribution:
    """Hand `quantity` of the donation to a person in the actor's scope or to a school
    (by name). Never more than what is left of it."""
    require_perm(acting_user, "disbursements.manage_funds")
    school_name = school_name.strip()
    if (person is None) == (not school_name):
        raise ValidationError(_("请选择受助人或填写受赠学校（二选一）。"), code="no_recipient")
    if person is not None:
        require_area(acting_user, person.area)
    if quantity is None or quantity <= 0:
        raise ValidationError({"quantity": _("发放数量必须大于0。")})
    if given_on > timezone.localdate():
        raise ValidationError({"given_on": _("发放日期不能晚于今天。")})
    # The row lock serialises distributions of one donation: the sum read below
    # cannot change until this transaction ends.
    donation = GoodsDonation.objects.select_for_update().get(pk=donation.pk)
    if given_on < donation.received_on:
        raise ValidationError({"given_on": _("发放日期不能早于接收日期。")})
    left = goods_left(donation)
    if quantity > left:
        raise ValidationError(
            {
                "quantity": _("发放数量超过剩余数量：还剩 %(left)s%(unit)s。")
                % {"left": _qty(left), "unit": donation.unit}
            },
            code="over_distributed",
        )
    given = GoodsDistribution(
        donation=donation,
        person=person,
        school_name=school_name,
        quantity=quantity,
        given_on=given_on,
        created_by=acting_user,
    )
    given.full_clean()
    given.save()
    audit_log(
        actor=acting_user,
        verb="goods.distribute",
        obj=donation,
        area=person.area if person is not None else None,
        details={
            "distribution": given.pk,
            "quantity": str(quantity),
            "person": person.pk if person is not None else None,
            "school": school_name,
        },
    )
    return given


def _qty(value: Decimal) -> str:
    return f"{value.normalize():f}"
