"""`{{ amount|yuan }}` → ¥12,345.00: the money format of the services' messages (the
zh-hans locale groups by four digits, or not at all below 10,000)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return f"¥{amount:,.2f}"
