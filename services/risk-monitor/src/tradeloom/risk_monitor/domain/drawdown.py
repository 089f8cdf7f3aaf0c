"""End-of-day balances and the trailing drawdown limit (pure).

The balance at a trading day's close is the starting balance plus the realised PnL minus fees of
every fill before that close plus the unrealised PnL of the positions open then, at that close's
marks (``domain.eod_marks``); the day's PnL is its realised PnL minus fees. The high-water mark
is the highest close so far (at least the starting balance). The drawdown floor trails it,
``max_drawdown`` below, and locks at the starting balance: once the high-water mark has risen
``max_drawdown`` above the start, the floor stays there (the rule prop-trading firms apply to
funded accounts). A day is breached when its close is at or below the floor in force that day,
set by the closes before it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal


def trailing_floor(high_water: Decimal, starting: Decimal, max_drawdown: Decimal) -> Decimal:
    return min(high_water - max_drawdown, starting)


@dataclass(frozen=True)
class EodRow:
    trading_day: date
    day_pnl: Decimal
    balance: Decimal  # at the day's close
    high_water: Decimal  # highest close up to and including this day (at least the start)
    floor: Decimal | None  # in force during the day; None without a drawdown limit
    breached: bool


def eod_history(
    first: date,
    last: date,
    pnl_by_day: Mapping[date, Decimal],
    starting: Decimal,
    max_drawdown: Decimal | None,
    *,
    unrealised: Mapping[date, Decimal] | None = None,
) -> list[EodRow]:
    """One row per trading day from ``first`` to ``last`` (days without fills included)."""
    rows: list[EodRow] = []
    realised, high_water = starting, starting
    day = first
    while day <= last:
        floor = None if max_drawdown is None else trailing_floor(high_water, starting, max_drawdown)
        pnl = pnl_by_day.get(day, Decimal(0))
        realised += pnl
        balance = realised + (unrealised or {}).get(day, Decimal(0))
        high_water = max(high_water, balance)
        rows.append(EodRow(day, pnl, balance, high_water, floor, floor is not None and balance <= floor))
        day += timedelta(days=1)
    return rows


def floor_today(high_water: Decimal | None, starting: Decimal, max_drawdown: Decimal) -> Decimal:
    """The floor in force now: from the last close's high-water mark (the start before any close)."""
    return trailing_floor(starting if high_water is None else high_water, starting, max_drawdown)
