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


@dataclass(frozen=True)
class Carry:
    """The fold's state after a scope's fills up to ``last`` (the newest ``(filled_at, fill_id)``):
    enough to continue the rows from that fill's day with only the fills after it. The state does
    not depend on marks, so it stays true when prices move; ``previous`` (the equity of the day
    before ``day``, unrounded) does, and holds while no mark before ``day`` changes."""

    last: tuple[datetime, str]
    cash: Decimal
    quantity: Mapping[str, Decimal]  # in the order the symbols were first filled (the sums' order)
    fill_price: Mapping[str, tuple[datetime, Decimal]]  # each symbol's newest fill (time, price)
    day_trades: int  # fills on the day of ``last``
    previous: Decimal

    @property
    def day(self) -> date:
        return self.last[0].date()


def fill_key(fill: Fill) -> tuple[datetime, str]:
    """The fold's order of fills (the time, then the id for fills at the same instant)."""
    return (fill.filled_at, fill.fill_id)


def daily_equity(fills: Sequence[Fill], marks: MarkBook, last_day: date) -> list[DayEquity]:
    """One row per UTC day from the first fill's day through ``last_day`` (none without fills)."""
    return equity_from(None, fills, marks, last_day)[0]


def equity_from(
    carry: Carry | None, fills: Sequence[Fill], marks: MarkBook, last_day: date, start: date | None = None
) -> tuple[list[DayEquity], Carry | None]:
    """The rows from ``start`` through ``last_day`` (or the newest fill's day), folding ``fills``
    on top of ``carry``, and the carry after them.

    Without a carry, ``fills`` are all of the scope's and the rows start at the first one's day
    (``daily_equity``). With one, ``fills`` are exactly the scope's fills after ``carry.last``, and
    ``start`` (default: the carry's day) is on or after the carry's day and on or before the first
    of ``fills``' days. The rows are then those ``daily_equity`` gives over all the fills for the
    same days, figure for figure (the same additions in the same order), as long as no mark
    before ``start`` changed since the carry was made.
    """
    ordered = sorted(fills, key=fill_key)
    if carry is None:
        if not ordered:
            return [], None
        day, previous = ordered[0].filled_at.date(), ZERO
        cash, quantity, fill_price = ZERO, {}, {}
    else:
        day = carry.day if start is None else start
        if day < carry.day or (ordered and ordered[0].filled_at.date() < day):
            raise ValueError("the rows must start between the carry's day and the first new fill's")
        if ordered and fill_key(ordered[0]) <= carry.last:
            raise ValueError("a fill at or before the carry's last one")
        cash, quantity, fill_price = carry.cash, dict(carry.quantity), dict(carry.fill_price)
        previous = carry.previous  # no fill between the carry's day and ``start``: its state held
        if day > carry.day:
            previous = _valued(cash, quantity, fill_price, marks, day - timedelta(days=1))[0]
    rows: list[DayEquity] = []
    previous_of: dict[date, Decimal] = {}
    index = 0
    end = max(last_day, ordered[-1].filled_at.date() if ordered else day, carry.day if carry else day)
    while day <= end:
        trades = carry.day_trades if carry is not None and day == carry.day else 0
        while index < len(ordered) and ordered[index].filled_at.date() == day:
            fill = ordered[index]
            signed = fill.quantity if fill.side == "buy" else -fill.quantity
            cash -= signed * fill.price + fill.fee
            quantity[fill.symbol] = quantity.get(fill.symbol, ZERO) + signed
            fill_price[fill.symbol] = (fill.filled_at, fill.price)
            trades += 1
            index += 1
        equity, exposure = _valued(cash, quantity, fill_price, marks, day)
        rows.append(DayEquity(day, equity, equity - previous, exposure, trades))
        previous_of[day] = previous
        previous = equity
        day += timedelta(days=1)
    if not ordered:
        return rows, carry
    last = fill_key(ordered[-1])
    row = next(row for row in rows if row.day == last[0].date())
    return rows, Carry(last, cash, quantity, fill_price, row.trades, previous_of[row.day])


def _valued(
    cash: Decimal,
    quantity: Mapping[str, Decimal],
    fill_price: Mapping[str, tuple[datetime, Decimal]],
    marks: MarkBook,
    day: date,
) -> tuple[Decimal, Decimal]:
    """Equity (cash plus the positions at the day's marks) and exposure at the end of ``day``."""
    value = ZERO
    exposure = ZERO
    for symbol, held in quantity.items():
        if held == 0:
            continue
        price = _mark(marks, fill_price, symbol, day)
        value += held * price
        exposure += abs(held * price)
    return cash + value, exposure


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
