"""Positions and realised PnL of a book of fills (average cost), and how trading is distributed.

A fill in the position's direction moves the average entry; one against it realises
``(price − entry) × closed`` (shorts: the opposite) and, past zero, opens the other side at the fill
price. Fees are counted separately. Distribution: per hour of day and weekday (UTC) and per symbol,
the fills, their notional and the PnL they realised (less fees); a histogram of daily returns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from tradeloom.analytics.domain.equity import Fill
from tradeloom.quant.types import FloatArray

ZERO = Decimal(0)


@dataclass
class Position:
    quantity: Decimal = ZERO  # long > 0, short < 0
    entry: Decimal = ZERO
    realised: Decimal = ZERO
    fees: Decimal = ZERO


@dataclass
class Bucket:
    fills: int = 0
    notional: Decimal = ZERO
    net_pnl: Decimal = ZERO  # realised less fees


@dataclass
class Distribution:
    by_hour: dict[int, Bucket] = field(default_factory=dict)
    by_weekday: dict[int, Bucket] = field(default_factory=dict)  # 0 Monday … 6 Sunday
    by_symbol: dict[str, Bucket] = field(default_factory=dict)


def apply(position: Position, fill: Fill) -> Decimal:
    """Fold one fill into ``position``; the PnL it realised."""
    signed = fill.quantity if fill.side == "buy" else -fill.quantity
    position.fees += fill.fee
    held = position.quantity
    if held == 0 or (held > 0) == (signed > 0):
        total = held + signed
        position.entry = (position.entry * abs(held) + fill.price * abs(signed)) / abs(total)
        position.quantity = total
        return ZERO
    closed = min(abs(held), abs(signed))
    realised = (fill.price - position.entry) * closed * (1 if held > 0 else -1)
    position.realised += realised
    position.quantity = held + signed
    if position.quantity == 0:
        position.entry = ZERO
    elif (position.quantity > 0) != (held > 0):
        position.entry = fill.price  # flipped: the rest opens at the fill price
    return realised


def fold(fills: Sequence[Fill]) -> tuple[dict[str, Position], list[tuple[Fill, Decimal]]]:
    """Positions per symbol and each fill with the PnL it realised, in (time, id) order."""
    positions: dict[str, Position] = {}
    realised: list[tuple[Fill, Decimal]] = []
    for fill in sorted(fills, key=lambda f: (f.filled_at, f.fill_id)):
        realised.append((fill, apply(positions.setdefault(fill.symbol, Position()), fill)))
    return positions, realised


def distribution(fills: Sequence[Fill]) -> Distribution:
    out = Distribution()
    for fill, realised in fold(fills)[1]:
        moment = fill.filled_at
        for key, table in ((moment.hour, out.by_hour), (moment.weekday(), out.by_weekday)):
            _add(table.setdefault(key, Bucket()), fill, realised)
        _add(out.by_symbol.setdefault(fill.symbol, Bucket()), fill, realised)
    return out


def _add(bucket: Bucket, fill: Fill, realised: Decimal) -> None:
    bucket.fills += 1
    bucket.notional += fill.price * fill.quantity
    bucket.net_pnl += realised - fill.fee


def histogram(returns: FloatArray, bins: int) -> tuple[list[float], list[int]]:
    """Bin edges (``bins + 1``) and counts of the daily returns (numpy's histogram)."""
    if returns.size == 0:
        return [], []
    counts, edges = np.histogram(returns, bins=bins)
    return [float(edge) for edge in edges], [int(count) for count in counts]
