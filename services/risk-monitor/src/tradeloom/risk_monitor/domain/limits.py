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

from tradeloom.risk_monitor.domain.positions import Position

AlertLevel = Literal["approaching", "breached"]
LIMIT_NAMES = (
    "max_order_notional",
    "max_position_notional",
    "max_open_orders",
    "max_daily_loss",
    "max_gross_exposure",
)


@dataclass(frozen=True)
class Limits:
    max_order_notional: Decimal | None = None
    max_position_notional: Decimal | None = None
    max_open_orders: int | None = None
    max_daily_loss: Decimal | None = None
    max_gross_exposure: Decimal | None = None
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
        elif item.name in LIMIT_NAMES:
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


@dataclass(frozen=True)
class Exposure:
    """What the check needs of an account, besides the order: from one query."""

    symbol_quantity: Decimal
    open_orders: int  # excluding the order being checked
    gross_exposure: Decimal
    day_pnl: Decimal  # realised minus fees since the trading day began


def refusals(order: OrderCheck, exposure: Exposure, limits: Limits) -> list[str]:
    """Every limit the order would break, each as ``<limit>: <value> > <limit value>``."""
    if Position(quantity=exposure.symbol_quantity).reduces(order.side, order.quantity):
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
    for name, value, limit in checks:
        if limit is not None and value > limit:
            reasons.append(f"{name}: {_plain(value)} > {_plain(limit)}")
    if limits.max_daily_loss is not None and -exposure.day_pnl >= limits.max_daily_loss:
        reasons.append(f"max_daily_loss: loss {_plain(-exposure.day_pnl)} >= {_plain(limits.max_daily_loss)}")
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
    ]
    return [(name, value, limit) for name, value, limit in measured if limit is not None]


def _plain(value: Decimal | int) -> str:
    """A decimal as plain digits ("10000", never "1E+4")."""
    if isinstance(value, int):
        return str(value)
    text = format(value.normalize(), "f")
    return text
