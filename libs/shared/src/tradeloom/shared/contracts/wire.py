"""Decimal fields that travel as plain decimal strings ("10000", never "1E+4"), bounded.

``Decimal`` alone serialises with ``str()``, which writes an exponent for values such as
``Decimal("1E+4")`` that a client may send. These annotated types refuse NaN/Infinity, cap the
magnitude and the number of decimals (a "huge" number is a 422, not a database overflow) and
serialise with fixed-point notation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

MAX_AMOUNT = Decimal("1e15")
MAX_PLACES = 18


def plain(value: Decimal) -> str:
    """Fixed-point text of ``value`` without an exponent and without trailing zeros after the point."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


_SERIALIZE = PlainSerializer(plain, return_type=str, when_used="json")

# A strictly positive quantity or price (order inputs).
Positive = Annotated[
    Decimal,
    Field(gt=0, le=MAX_AMOUNT, decimal_places=MAX_PLACES, allow_inf_nan=False, examples=["0.25"]),
    _SERIALIZE,
]
# Zero or more (balances, rates, slippage).
NonNegative = Annotated[
    Decimal,
    Field(ge=0, le=MAX_AMOUNT, decimal_places=MAX_PLACES, allow_inf_nan=False, examples=["10000"]),
    _SERIALIZE,
]
# Any sign (statistics such as slippage against the submit price).
Signed = Annotated[Decimal, Field(allow_inf_nan=False, examples=["-0.5"]), _SERIALIZE]
# A fraction such as a fee rate: 0 ≤ rate < 1.
Rate = Annotated[
    Decimal,
    Field(ge=0, lt=1, decimal_places=MAX_PLACES, allow_inf_nan=False, examples=["0.001"]),
    _SERIALIZE,
]
