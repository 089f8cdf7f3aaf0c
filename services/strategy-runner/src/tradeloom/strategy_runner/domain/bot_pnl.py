"""A bot's positions and PnL from its executions, by the average-cost method.

Pure: no NATS, SQL or HTTP. An execution (an order's fills at their average price) adds to a
position in its direction at the blended average price, or reduces it and realises
``closed × (price − average) × direction``; crossing through flat opens the rest the other way at
the execution's price. A round trip is a position from flat back to flat (or through it); it wins
when its realised PnL less its fees is positive.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal(0)
PLACES = Decimal("1e-12")  # averages and PnL are reported to 12 decimals


@dataclass(frozen=True)
class Execution:
    symbol: str
    side: str  # buy | sell
    quantity: Decimal
    price: Decimal
    fee: Decimal


@dataclass
class Book:
    """One symbol's position and what it has realised."""

    quantity: Decimal = ZERO  # signed: long > 0
    average: Decimal = ZERO
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    volume: Decimal = ZERO
    executions: int = 0
    round_trips: int = 0
    wins: int = 0
    trip_result: Decimal = field(default=ZERO)  # realised less fees of the trip under way

    def apply(self, execution: Execution) -> None:
        signed = execution.quantity if execution.side == "buy" else -execution.quantity
        self.executions += 1
        self.fees += execution.fee
        self.volume += execution.quantity * execution.price
        self.trip_result -= execution.fee
        if self.quantity == ZERO or (self.quantity > ZERO) == (signed > ZERO):
            total = abs(self.quantity) + abs(signed)
            self.average = (abs(self.quantity) * self.average + abs(signed) * execution.price) / total
            self.quantity += signed
            return
        closed = min(abs(signed), abs(self.quantity))
        direction = 1 if self.quantity > ZERO else -1
        gain = closed * (execution.price - self.average) * direction
        self.realized += gain
        self.trip_result += gain
        self.quantity += signed
        if self.quantity == ZERO or (self.quantity > ZERO) != (direction > 0):
            self.round_trips += 1
            self.wins += self.trip_result > ZERO
            self.trip_result = ZERO
            self.average = execution.price if self.quantity != ZERO else ZERO

    def unrealized(self, mark: Decimal | None) -> Decimal | None:
        if self.quantity == ZERO:
            return ZERO
        return None if mark is None else rounded(self.quantity * (mark - self.average))


def rounded(value: Decimal) -> Decimal:
    return value.quantize(PLACES).normalize() + ZERO  # + 0 turns -0 into 0


def books(executions: Iterable[Execution]) -> dict[str, Book]:
    """Each symbol's book after the executions (in the order they happened)."""
    result: dict[str, Book] = {}
    for execution in executions:
        result.setdefault(execution.symbol, Book()).apply(execution)
    return result
