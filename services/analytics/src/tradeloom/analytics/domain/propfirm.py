"""Funded-account (prop-firm) evaluation of a daily equity series against a rule set.

Rules, all optional but the starting balance (amounts in the account's quote asset):
- ``max_loss``: a floor trailing the highest end-of-day balance by this amount, starting at
  ``start_balance − max_loss`` and locking at ``start_balance`` once the high is ``max_loss`` above
  it; an end-of-day balance at or below the floor (set by the days before) fails the evaluation;
- ``daily_loss``: a day whose PnL is at or below ``−daily_loss`` is breached (the firm flattens and
  blocks the rest of the day); it fails the evaluation only when ``daily_loss_fails``;
- ``profit_target``: the balance at least ``start_balance + profit_target`` at a day's end;
- ``consistency_pct``: the best day's profit at most this share (%) of the total profit;
- ``min_trading_days``: at least this many days with fills.
Passed: target, consistency and trading days all met without a failure; failed: a failing breach
(the first one decides, with its day); otherwise in progress. Balances are measured at each UTC
day's close from the daily equity rows (marked positions included) and, when a day carries its
intraday low (``Day.low``, the lowest change since the previous close observed during the day, at
``low_at``), at that low too: a dip below the floor or the daily loss limit that recovers by the
close is a breach at the time of the low.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

ZERO = Decimal(0)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Rules:
    start_balance: Decimal
    max_loss: Decimal | None = None
    daily_loss: Decimal | None = None
    daily_loss_fails: bool = False
    profit_target: Decimal | None = None
    consistency_pct: Decimal | None = None
    min_trading_days: int = 0


@dataclass(frozen=True)
class Day:
    day: date
    pnl: Decimal  # the day's change of balance
    trades: int
    low: Decimal | None = None  # the lowest intraday change of balance since the previous close
    low_at: datetime | None = None  # when it was observed


@dataclass(frozen=True)
class Breach:
    rule: str  # max_loss | daily_loss
    day: date
    value: Decimal  # the balance (max_loss) or the day's PnL (daily_loss)
    limit: Decimal  # the floor, or −daily_loss
    fails: bool
    at: datetime | None = None  # intraday: when the low was observed; None: at the day's close


@dataclass(frozen=True)
class Evaluation:
    status: str  # passed | failed | in_progress
    balance: Decimal
    profit: Decimal
    floor: Decimal | None  # the max-loss floor now
    high: Decimal  # the highest end-of-day balance
    trading_days: int
    best_day: Decimal
    failed_on: date | None
    passed_on: date | None
    breaches: list[Breach] = field(default_factory=list)
    distances: dict[str, Decimal] = field(default_factory=dict)


def _floor(rules: Rules, high: Decimal) -> Decimal | None:
    if rules.max_loss is None:
        return None
    return min(high - rules.max_loss, rules.start_balance)


def _consistent(rules: Rules, profit: Decimal, best: Decimal) -> bool:
    if rules.consistency_pct is None:
        return True
    return profit > 0 and best * HUNDRED <= rules.consistency_pct * profit


def evaluate(rules: Rules, days: Sequence[Day]) -> Evaluation:
    """Walk the days in order; the status is decided at the first failing breach or at the first
    day's close on which every passing condition holds, and stays so."""
    balance = high = rules.start_balance
    best = ZERO
    trading = 0
    breaches: list[Breach] = []
    failed_on: date | None = None
    passed_on: date | None = None
    for item in days:
        floor = _floor(rules, high)  # set by the previous closes
        balance += item.pnl
        trading += 1 if item.trades else 0
        best = max(best, item.pnl)
        low, at = _worst(item)
        if rules.daily_loss is not None and low <= -rules.daily_loss:
            breach = Breach("daily_loss", item.day, low, -rules.daily_loss, rules.daily_loss_fails, at)
            breaches.append(breach)
        if floor is not None and balance - item.pnl + low <= floor:
            breaches.append(Breach("max_loss", item.day, balance - item.pnl + low, floor, True, at))
        if failed_on is None and passed_on is None:
            if any(b.fails and b.day == item.day for b in breaches):
                failed_on = item.day
            elif _passes(rules, balance, best, trading):
                passed_on = item.day
        high = max(high, balance)
    profit = balance - rules.start_balance
    status = "failed" if failed_on else "passed" if passed_on else "in_progress"
    floor_now = _floor(rules, high)
    return Evaluation(
        status, balance, profit, floor_now, high, trading, best, failed_on, passed_on, breaches,
        distances(rules, today=days[-1].pnl if days else ZERO, balance=balance, best=best, trading=trading,
                  floor=floor_now),
    )  # fmt: skip


def _worst(item: Day) -> tuple[Decimal, datetime | None]:
    """The day's lowest change of balance and when (None: at the close)."""
    if item.low is not None and item.low < item.pnl:
        return item.low, item.low_at
    return item.pnl, None


def _passes(rules: Rules, balance: Decimal, best: Decimal, trading: int) -> bool:
    if rules.profit_target is None:
        return False
    profit = balance - rules.start_balance
    return (
        profit >= rules.profit_target
        and _consistent(rules, profit, best)
        and trading >= rules.min_trading_days
    )


def distances(
    rules: Rules, *, today: Decimal, balance: Decimal, best: Decimal, trading: int, floor: Decimal | None
) -> dict[str, Decimal]:
    """How far each limit is now: room left before a loss limit, what is missing to a target."""
    profit = balance - rules.start_balance
    out: dict[str, Decimal] = {}
    if floor is not None:
        out["max_loss"] = balance - floor
    if rules.daily_loss is not None:
        out["daily_loss"] = rules.daily_loss + today
    if rules.profit_target is not None:
        out["profit_target"] = max(rules.profit_target - profit, ZERO)
    if rules.consistency_pct is not None:
        # the total profit the best day needs to be within the share
        out["consistency"] = max(best * HUNDRED / rules.consistency_pct - max(profit, ZERO), ZERO)
    if rules.min_trading_days:
        out["min_trading_days"] = Decimal(max(rules.min_trading_days - trading, 0))
    return out
