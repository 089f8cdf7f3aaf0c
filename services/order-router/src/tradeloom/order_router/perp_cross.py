"""Which cross positions a cross-margin liquidation closes, and at what prices (pure).

The cross pool of one settle asset: ``wallet`` (the settle balance, free + locked, less the isolated
positions' margins), plus every cross position's unrealised PnL at its mark; the traded symbol's
mark is the batch's worst price for it (a long: the low, a short: the high). Below the pool's
total tiered maintenance margin (``tradeloom.quant.margin.cross_margin``), every cross position
closes: the traded one at its cross liquidation price (the others held at their marks: the price
where the pool's equity met its maintenance margin; like an isolated position, never at the
gapped trade price), the others at their marks. Each one's fee is its maintenance margin at its
closing price, the traded one's takes what is left of the pool's equity, so the wallet ends at
exactly 0: a cross account loses its whole settle balance but the isolated margins.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.order_router.domain.liquidation import Liquidation
from tradeloom.order_router.domain.perps import money
from tradeloom.quant.margin import (
    Bracket,
    CrossPosition,
    cross_liquidation_prices,
    cross_margin,
    maintenance_margin,
)

Close = tuple[Row[Any], Liquidation, Decimal]  # (position row, outcome, mark)


def label(row: Row[Any]) -> str:
    """A position's name in the pool: its symbol, with ``#long``/``#short`` in hedge mode (two
    positions on one symbol)."""
    return f"{row.symbol}#{row.position_side}" if row.position_side else str(row.symbol)


def cross_closes(
    wallet: Decimal,
    rows: Sequence[Row[Any]],
    marks: Mapping[str, Decimal],
    *,
    trigger: str,
    prices: tuple[Decimal, Decimal],
    tiers: Callable[[str], Sequence[Bracket]],
) -> list[Close] | None:
    """The closes when the pool is below its maintenance margin; None when it is not.
    ``trigger``: the label of the position the batch's trade reached; every position on its
    symbol (both sides in hedge mode) is marked at the batch's worst price for it."""
    low, high = prices
    positions, held = [], {}
    for row in rows:
        quantity = Decimal(row.quantity) * Decimal(row.contract_size)
        if row.symbol == trigger.split("#", maxsplit=1)[0]:
            mark = low if quantity > 0 else high
        else:
            mark = marks.get(row.symbol, Decimal(row.entry_price))
        positions.append(
            CrossPosition(label(row), quantity, Decimal(row.entry_price), mark, tiers(row.symbol))
        )
        held[label(row)] = row
    if not cross_margin(wallet, positions).liquidating:
        return None
    at_liquidation = cross_liquidation_prices(wallet, positions).get(trigger)
    closes: list[Close] = []
    for position in positions:
        price = position.mark
        if position.symbol == trigger and at_liquidation is not None and at_liquidation > 0:
            price = money(at_liquidation)
        pnl = money(position.quantity * (price - position.entry))
        fee = money(maintenance_margin(abs(position.quantity) * price, position.brackets))
        closes.append((held[position.symbol], Liquidation(price, pnl, fee), position.mark))
    left = wallet + sum((o.realised_pnl - o.fee for r, o, _ in closes if label(r) != trigger), Decimal(0))
    return [
        (r, replace(o, fee=max(left + o.realised_pnl, Decimal(0))) if label(r) == trigger else o, mark)
        for r, o, mark in closes
    ]
