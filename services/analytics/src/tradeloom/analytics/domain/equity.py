"""Daily equity of a book of fills, marked at each UTC day's last known price.

A pure function of (fills, marks, last day): the service stores fills and marks and rewrites the
rows from them, so a replay of the same events yields identical rows whatever the delivery order.

Equity is measured in the quote asset relative to zero at the first fill: cash flow of every fill
(a buy pays ``price × quantity``, a sell receives it, fees are paid) plus each open position valued
at the day's mark. The mark of a symbol on a day is the newest price seen that day (candle close or
trade), else the latest earlier mark, unless a fill of the symbol is newer: the newest price seen
by the end of the day, from marks and fills alike. Days without fills are included (the previous
day's position at that day's mark).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

ZERO = Decimal(0)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Fill:
    fill_id: str
    symbol: str
    side: str  # buy | sell
    price: Decimal
    quantity: Decimal
    fee: Decimal  # in the quote asset
    filled_at: datetime  # aware, UTC


@dataclass(frozen=True)
class DayEquity:
    day: date
    equity: Decimal  # cumulative net PnL marked at the day's close
    pnl: Decimal  # change since the previous day (the first day: since zero)
    exposure: Decimal  # sum of |position value| at the day's marks
    trades: int  # fills on that day


class MarkBook:
    """Per symbol, the newest price of each day as (day, ts_ns, price); ``price_on`` is the newest
    on or before a day, with its time."""

    def __init__(self, marks: Mapping[str, Iterable[tuple[date, int, Decimal]]]) -> None:
        self._days: dict[str, list[date]] = {}
        self._points: dict[str, list[tuple[int, Decimal]]] = {}
        for symbol, points in marks.items():
            ordered = sorted(points)
            self._days[symbol] = [day for day, _, _ in ordered]
            self._points[symbol] = [(ts_ns, price) for _, ts_ns, price in ordered]

    def price_on(self, symbol: str, day: date) -> tuple[int, Decimal] | None:
        days = self._days.get(symbol)
        if not days:
            return None
        index = bisect_right(days, day) - 1
        return None if index < 0 else self._points[symbol][index]


def daily_equity(fills: Sequence[Fill], marks: MarkBook, last_day: date) -> list[DayEquity]:
    """One row per UTC day from the first fill's day through ``last_day`` (none without fills)."""
    ordered = sorted(fills, key=lambda fill: (fill.filled_at, fill.fill_id))
    if not ordered:
        return []
    first = ordered[0].filled_at.date()
    cash = ZERO
    quantity: dict[str, Decimal] = {}
    fill_price: dict[str, tuple[datetime, Decimal]] = {}
    rows: list[DayEquity] = []
    previous = ZERO
    index = 0
    day = first
    while day <= max(last_day, ordered[-1].filled_at.date()):
        trades = 0
        while index < len(ordered) and ordered[index].filled_at.date() == day:
            fill = ordered[index]
            signed = fill.quantity if fill.side == "buy" else -fill.quantity
            cash -= signed * fill.price + fill.fee
            quantity[fill.symbol] = quantity.get(fill.symbol, ZERO) + signed
            fill_price[fill.symbol] = (fill.filled_at, fill.price)
            trades += 1
            index += 1
        value = ZERO
        exposure = ZERO
        for symbol, held in quantity.items():
            if held == 0:
                continue
            price = _mark(marks, fill_price, symbol, day)
            value += held * price
            exposure += abs(held * price)
        equity = cash + value
        rows.append(DayEquity(day, equity, equity - previous, exposure, trades))
        previous = equity
        day += timedelta(days=1)
    return rows


def _mark(
    marks: MarkBook, fill_price: Mapping[str, tuple[datetime, Decimal]], symbol: str, day: date
) -> Decimal:
    """The newest of the day's (or latest earlier) mark and the symbol's latest fill."""
    marked = marks.price_on(symbol, day)
    filled_at, price = fill_price[symbol]
    if marked is None or marked[0] < to_ns(filled_at):
        return price
    return marked[1]


def to_ns(moment: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime (exact: no float)."""
    delta = moment - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
