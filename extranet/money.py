"""Amounts in euros: Decimal only, rounded in one place."""

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money(value):
    """Round to the cent, halves away from zero (the rule of French public accounting)."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
