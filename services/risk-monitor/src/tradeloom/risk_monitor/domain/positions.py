"""Positions as the fold of their fills: quantity, average entry, realised PnL and fees.

A position is signed (long > 0, short < 0). A fill in the position's direction moves the average
entry; one against it realises PnL on the part it closes and, past zero, opens the other side at
the fill price. The fold is defined on the fills sorted by ``(filled_at, fill_id)`` with duplicate
ids dropped, so it does not depend on the order or number of deliveries: a fill that arrives
after a later one makes the caller fold the stored fills again (``needs_refold``).

Every intermediate value is rounded to 18 places (the database keeps ``numeric(38, 18)``), so a
position read back from storage and extended by one fill equals the full fold. The arithmetic runs
in a fixed decimal context (``CONTEXT``: 80 digits, half-even), never the ambient one: a library may
change the thread's context (ccxt's ``decimal_to_precision`` leaves it rounding half-up), and an
average entry whose 19th decimal is a 5 would then round differently in that process, 1e-18 away
from the same fold elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import Literal

PLACES = Decimal("1e-18")
CONTEXT = Context(prec=80, rounding=ROUND_HALF_EVEN, traps=[InvalidOperation, DivisionByZero, Overflow])
ZERO = Decimal(0)

FillKey = tuple[datetime, str]


@dataclass(frozen=True)
class Fill:
    fill_id: str
    side: Literal["buy", "sell"]
    price: Decimal
    quantity: Decimal
    fee: Decimal
    filled_at: datetime

    @property
    def key(self) -> FillKey:
        return (self.filled_at, self.fill_id)

    @property
    def signed_quantity(self) -> Decimal:
        return self.quantity if self.side == "buy" else -self.quantity


@dataclass(frozen=True)
class Position:
    quantity: Decimal = ZERO
    average_entry: Decimal = ZERO
    realised_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    fill_count: int = 0
    last_key: FillKey | None = None

    def reduces(self, side: str, quantity: Decimal) -> bool:
        """An order on ``side`` of ``quantity`` only shrinks this position (never flips it)."""
        signed = quantity if side == "buy" else -quantity
        return self.quantity != 0 and (self.quantity > 0) != (signed > 0) and quantity <= abs(self.quantity)


@dataclass(frozen=True)
class Folded:
    """A fold's result and the PnL each fill realised (for the trading-day PnL)."""

    position: Position
    realised_by_fill: dict[str, Decimal] = field(default_factory=dict)


def _round(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN, context=CONTEXT)


def apply(position: Position, fill: Fill) -> tuple[Position, Decimal]:
    """The position after ``fill`` and the PnL the fill realised (fees not included)."""
    with localcontext(CONTEXT):
        held, entry, move = position.quantity, position.average_entry, fill.signed_quantity
        realised = ZERO
        if held == 0 or (held > 0) == (move > 0):
            size = abs(held) + abs(move)
            entry = _round((abs(held) * entry + abs(move) * fill.price) / size)
        else:
            closing = min(abs(held), abs(move))
            direction = 1 if held > 0 else -1
            realised = _round(closing * (fill.price - entry) * direction)
            if abs(move) > abs(held):
                entry = fill.price  # flipped through zero: the rest opens at the fill price
            elif abs(move) == abs(held):
                entry = ZERO
        quantity = _round(held + move)
        after = Position(
            quantity=quantity,
            average_entry=_round(entry),
            realised_pnl=_round(position.realised_pnl + realised),
            fees=_round(position.fees + fill.fee),
            fill_count=position.fill_count + 1,
            last_key=fill.key if position.last_key is None else max(position.last_key, fill.key),
        )
    return after, realised


def fold(fills: Iterable[Fill]) -> Folded:
    """The position of these fills, whatever their order and duplicates."""
    unique = {fill.fill_id: fill for fill in fills}
    position = Position()
    realised_by_fill: dict[str, Decimal] = {}
    for fill in sorted(unique.values(), key=lambda item: item.key):
        position, realised = apply(position, fill)
        realised_by_fill[fill.fill_id] = realised
    return Folded(position, realised_by_fill)


def needs_refold(position: Position, fill: Fill) -> bool:
    """True when ``fill`` is not after every fill already folded: fold the stored fills again."""
    return position.last_key is not None and fill.key <= position.last_key
