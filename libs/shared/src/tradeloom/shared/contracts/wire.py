"""Types every contract uses for what it puts on the wire.

``WireDecimal`` is a ``Decimal`` whose JSON form is a plain decimal string: ``"10000"``, never
``"1E+4"``. Pydantic writes ``str(value)``, and a Decimal read from ``1e4`` or normalised keeps its
exponent there; clients and other languages then see scientific notation where the contract
promises a decimal string. ``format(value, "f")`` keeps every digit and the exact value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import PlainSerializer


def plain_decimal(value: Decimal) -> str:
    """``value`` as a fixed-point string (no exponent); ``Decimal(result) == value``."""
    return format(value, "f")


WireDecimal = Annotated[Decimal, PlainSerializer(plain_decimal, return_type=str, when_used="json")]
