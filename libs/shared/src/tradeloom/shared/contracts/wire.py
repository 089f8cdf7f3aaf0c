"""Types every contract uses for what it puts on the wire.

Decimals travel as plain decimal strings: ``"10000"``, never ``"1E+4"``. Pydantic writes
``str(value)``, and a Decimal read from ``1e4`` or normalised keeps its exponent there; clients and
other languages then see scientific notation where the contract promises a decimal string.

* ``WireDecimal`` keeps every digit as it is (``format(value, "f")``).
* ``Positive``, ``NonNegative``, ``Signed`` and ``Rate`` (order, balance and risk amounts) also
  refuse NaN/Infinity, cap the magnitude and the number of decimals (a "huge" number is a 422, not
  a database overflow), and drop trailing zeros after the point (``"9975"``, not ``"9975.0000"``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field, PlainSerializer

MAX_AMOUNT = Decimal("1e15")
MAX_PLACES = 18


def plain_decimal(value: Decimal) -> str:
    """``value`` as a fixed-point string (no exponent); ``Decimal(result) == value``."""
    return format(value, "f")


def plain(value: Decimal) -> str:
    """Fixed-point text of ``value`` without an exponent and without trailing zeros after the point."""
    text = plain_decimal(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


WireDecimal = Annotated[Decimal, PlainSerializer(plain_decimal, return_type=str, when_used="json")]

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
