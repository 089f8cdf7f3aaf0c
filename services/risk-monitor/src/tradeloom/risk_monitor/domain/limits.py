"""Limits, the pre-trade rules and alert levels (pure).

A user may set limits for all their accounts (``account_id`` '') and for one account; both apply,
so the tighter value of each wins. A breach refuses entries only: an order that only shrinks the
position (``Position.reduces``) always passes, unless trading is halted.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from tradeloom.risk_monitor.domain.drawdown import floor_today
from tradeloom.risk_monitor.domain.positions import Position

AlertLevel = Literal["approaching", "breached"]
LIMIT_NAMES = (
    "max_order_notional",
    "max_position_notional",
    "max_open_orders",
    "max_daily_loss",
    "max_gross_exposure",
    "max_orders_per_minute",
    "max_leverage",
    "max_daily_loss_hard",
    "max_drawdown",
    "max_net_delta",
    "max_net_vega",
)


@dataclass(frozen=True)
class Limits:
    max_order_notional: Decimal | None = None
    max_position_notional: Decimal | None = None
    max_open_orders: int | None = None
    max_daily_loss: Decimal | None = None
    max_gross_exposure: Decimal | None = None
    max_orders_per_minute: int | None = None
    max_leverage: Decimal | None = None
    max_daily_loss_hard: Decimal | None = None  # breached: entries refused and positions flattened
    max_drawdown: Decimal | None = None  # trails the end-of-day high-water mark, locks at the start
    max_net_delta: Decimal | None = None  # |net delta| of an underlying, in its units (option entries)
    max_net_vega: Decimal | None = None  # |net vega| of an underlying, quote asset per vol point
    starting_balance: Decimal | None = None  # equity = this + PnL folded from fills (leverage, drawdown)
    alert_threshold_pct: Decimal = Decimal(80)
    day_boundary_tz: str = "UTC"
    day_boundary_time: time = time(0, 0)


def tightest(account: Limits | None, user: Limits | None) -> Limits:
    """Both sets apply: the smaller value of each limit; the day and alert settings of the account's."""
    if account is None or user is None:
        return account or user or Limits()
    merged: dict[str, object] = {}
    for item in fields(Limits):
        mine, theirs = getattr(account, item.name), getattr(user, item.name)
        if item.name in LIMIT_NAMES and mine is not None and theirs is not None:
            merged[item.name] = min(mine, theirs)
        elif item.name in (*LIMIT_NAMES, "starting_balance"):
            merged[item.name] = mine if mine is not None else theirs
        else:
            merged[item.name] = mine
    return Limits(**merged)  # type: ignore[arg-type]


def trading_day(now: datetime, tz: str, boundary: time) -> tuple[date, datetime]:
    """The trading day containing ``now`` (named by the local date it starts on) and its start."""
    local = now.astimezone(ZoneInfo(tz))
    start = datetime.combine(local.date(), boundary, tzinfo=local.tzinfo)
    if start > local:
        start = datetime.combine(local.date() - timedelta(days=1), boundary, tzinfo=local.tzinfo)
    return start.date(), start


@dataclass(frozen=True)
class OrderCheck:
    side: str
    quantity: Decimal
    price: Decimal  # limit price, else the reference price
    notional: Decimal
    closing: bool = False  # hedge mode: a sell on the long or a buy on the short (only reduces)

    def reduces(self, symbol_quantity: Decimal) -> bool:
        """The order only shrinks a position: a hedge-mode closing order (order-router trims it to
        its side), or one against the net position no larger than it."""
        return self.closing or Position(quantity=symbol_quantity).reduces(self.side, self.quantity)


@dataclass(frozen=True)
class Exposure:
    """What the check needs of an account, besides the order: from one query."""

    symbol_quantity: Decimal
    open_orders: int  # excluding the order being checked
    gross_exposure: Decimal
    day_pnl: Decimal  # realised minus fees since the trading day began
    orders_last_minute: int = 0  # excluding the order being checked
    total_pnl: Decimal = Decimal(0)  # realised minus fees, every fill
    unrealised: Decimal = Decimal(0)  # at the marks (entry when none)
    high_water: Decimal | None = None  # of the last end-of-day close; None before the first

    def equity(self, starting: Decimal) -> Decimal:
        return starting + self.total_pnl + self.unrealised


def refusals(order: OrderCheck, exposure: Exposure, limits: Limits) -> list[str]:
    """Every limit the order would break, each as ``<limit>: <value> > <limit value>``."""
    if order.reduces(exposure.symbol_quantity):
        return []
    reasons: list[str] = []
    signed = order.quantity if order.side == "buy" else -order.quantity
    position_notional = abs(exposure.symbol_quantity + signed) * order.price
    checks: list[tuple[str, Decimal | int, Decimal | int | None]] = [
        ("max_order_notional", order.notional, limits.max_order_notional),
        ("max_position_notional", position_notional, limits.max_position_notional),
        ("max_open_orders", exposure.open_orders + 1, limits.max_open_orders),
        ("max_gross_exposure", exposure.gross_exposure + order.notional, limits.max_gross_exposure),
    ]
    checks.append(("max_orders_per_minute", exposure.orders_last_minute + 1, limits.max_orders_per_minute))
    for name, value, limit in checks:
        if limit is not None and value > limit:
            reasons.append(f"{name}: {_plain(value)} > {_plain(limit)}")
    for name, loss_limit in (
        ("max_daily_loss", limits.max_daily_loss),
        ("max_daily_loss_hard", limits.max_daily_loss_hard),
    ):
        if loss_limit is not None and -exposure.day_pnl >= loss_limit:
            reasons.append(f"{name}: loss {_plain(-exposure.day_pnl)} >= {_plain(loss_limit)}")
    return reasons + _equity_refusals(order, exposure, limits)


def _equity_refusals(order: OrderCheck, exposure: Exposure, limits: Limits) -> list[str]:
    """Leverage and drawdown, measured on equity = starting balance + PnL folded from fills."""
    if limits.starting_balance is None:
        return []
    reasons: list[str] = []
    equity = exposure.equity(limits.starting_balance)
    if limits.max_leverage is not None:
        after = exposure.gross_exposure + order.notional
        if equity <= 0:
            reasons.append(f"max_leverage: equity {_plain(equity)} <= 0")
        elif after > limits.max_leverage * equity:
            ratio = (after / equity).quantize(Decimal("0.0001"))
            reasons.append(f"max_leverage: {_plain(ratio)} > {_plain(limits.max_leverage)}")
    if limits.max_drawdown is not None:
        floor = floor_today(exposure.high_water, limits.starting_balance, limits.max_drawdown)
        if equity <= floor:
            reasons.append(f"max_drawdown: equity {_plain(equity)} <= floor {_plain(floor)}")
    return reasons


def alert_level(value: Decimal, limit: Decimal, threshold_pct: Decimal) -> AlertLevel | None:
    """``breached`` at or past the limit, ``approaching`` from ``threshold_pct`` % of it."""
    if limit <= 0 or value >= limit:
        return "breached" if value >= limit else None
    if value * 100 >= limit * threshold_pct:
        return "approaching"
    return None


def usage(
    exposure: Exposure, position_notional: Decimal, limits: Limits
) -> list[tuple[str, Decimal, Decimal]]:
    """(limit, value, limit value) of the limits an account's state can approach after a fill."""
    measured: list[tuple[str, Decimal, Decimal | None]] = [
        ("max_daily_loss", max(-exposure.day_pnl, Decimal(0)), limits.max_daily_loss),
        ("max_gross_exposure", exposure.gross_exposure, limits.max_gross_exposure),
        ("max_position_notional", position_notional, limits.max_position_notional),
        ("max_daily_loss_hard", max(-exposure.day_pnl, Decimal(0)), limits.max_daily_loss_hard),
    ]
    if limits.starting_balance is not None and limits.max_drawdown is not None:
        # used: how far equity is below the high-water mark, of the room down to the floor
        high = exposure.high_water or limits.starting_balance
        room = high - floor_today(exposure.high_water, limits.starting_balance, limits.max_drawdown)
        used = max(high - exposure.equity(limits.starting_balance), Decimal(0))
        measured.append(("max_drawdown", used, room))
    return [(name, value, limit) for name, value, limit in measured if limit is not None]


def _plain(value: Decimal | int) -> str:
    """A decimal as plain digits ("10000", never "1E+4")."""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return text
