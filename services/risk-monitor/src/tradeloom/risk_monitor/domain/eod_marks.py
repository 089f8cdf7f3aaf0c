"""Unrealised PnL of an account at each trading day's close (pure), for the end-of-day balances.

Whatever the accounting of the average entry, a symbol's total PnL (realised + unrealised) at a
mark is ``Q × mark − Σ qᵢ pᵢ`` over its fills so far (``qᵢ`` signed: buys > 0), so its unrealised
PnL at a close is ``Q × mark − cost − realised`` with ``Q``, ``cost = Σ qᵢ pᵢ`` and ``realised``
accumulated over the fills before that close. No per-day fold is needed, only per-day sums.

The mark at a close is the one kept by the end-of-day roll when it first saw the day ended (the
last trade price then, per symbol held), else the last fill price of the symbol before the close.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from tradeloom.risk_monitor.domain.positions import CONTEXT, PLACES

ZERO = Decimal(0)


@dataclass(frozen=True)
class SymbolDay:
    """One symbol's fills of one trading day, summed."""

    quantity: Decimal  # Σ signed quantity
    cost: Decimal  # Σ signed quantity × price
    realised: Decimal  # Σ PnL the fold realised (fees not included)
    last_price: Decimal  # of the day's last fill


@dataclass
class _Running:
    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    realised: Decimal = ZERO
    last_price: Decimal = ZERO


def unrealised_by_day(
    first: date,
    last: date,
    flows: Mapping[date, Mapping[str, SymbolDay]],
    marks: Mapping[date, Mapping[str, Decimal]],
) -> dict[date, Decimal]:
    """The unrealised PnL at the close of each day from ``first`` to ``last`` (flows before
    ``first`` are counted too)."""
    running: dict[str, _Running] = {}
    result: dict[date, Decimal] = {}

    def add(day_flows: Mapping[str, SymbolDay]) -> None:
        for symbol, flow in day_flows.items():
            total = running.setdefault(symbol, _Running())
            total.quantity += flow.quantity
            total.cost += flow.cost
            total.realised += flow.realised
            total.last_price = flow.last_price

    for day in sorted(d for d in flows if d < first):
        add(flows[day])
    day = first
    while day <= last:
        add(flows.get(day, {}))
        kept = marks.get(day, {})
        unrealised = ZERO
        for symbol, total in running.items():
            if total.quantity != 0:
                mark = kept.get(symbol, total.last_price)
                unrealised += total.quantity * mark - total.cost - total.realised
        result[day] = unrealised.quantize(PLACES, context=CONTEXT)
        day += timedelta(days=1)
    return result
