"""The paper exchange's matching of one open order against one market trade (pure).

A trade is treated as a one-price bar, so trigger and limit prices come from the backtest
simulator's own rules (``tradeloom.quant.fills``): market-priced fills take the trade price plus
the account's slippage and pay the taker rate; limit fills take the limit rule's price and pay the
maker rate. A fill is at most the trade's size. IOC and FOK orders get one chance, the first trade
after acceptance; GTD orders expire at the first trade at or after ``expire_at``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts, affordable, to_decimal
from tradeloom.order_router.domain.perps import lock_share
from tradeloom.quant.fills import (
    commission,
    limit_fill_price,
    slipped_price,
    stop_fill_price,
    trailing_stop_level,
)

MARKET_PRICED = frozenset({"market", "stop_market", "take_profit_market", "trailing_stop"})
CONDITIONAL = frozenset(
    {"stop_market", "stop_limit", "take_profit_market", "take_profit_limit", "trailing_stop"}
)
SIDE_SIGN = {"buy": 1, "sell": -1}


@dataclass(frozen=True)
class PaperOrder:
    """What matching needs of an open order."""

    side: str
    type: str
    status: str
    quantity: Decimal
    filled_quantity: Decimal
    locked: Decimal
    time_in_force: str
    accepted_ns: int
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trailing_amount: Decimal | None = None
    trailing_percent: Decimal | None = None
    trail_extreme: Decimal | None = None
    triggered: bool = False
    expire_ns: int | None = None
    queue_ahead: Decimal | None = None  # volume resting ahead at its limit price (queue position)
    contract_size: Decimal | None = None  # a perpetual (margin lock, see ``domain/perps.py``); None: spot

    @property
    def remaining(self) -> Decimal:
        return self.quantity - self.filled_quantity


@dataclass(frozen=True)
class Trade:
    price: Decimal
    amount: Decimal
    ts_ns: int


@dataclass(frozen=True)
class Fill:
    price: Decimal
    quantity: Decimal
    fee: Decimal
    liquidity: str


@dataclass(frozen=True)
class Outcome:
    """The order after the trade, an optional fill, and the statuses it went through, in order."""

    order: PaperOrder
    fill: Fill | None
    statuses: tuple[str, ...]
    reason: str | None = None


def _triggered(order: PaperOrder, trade: Trade) -> tuple[bool, PaperOrder]:
    """Whether a conditional order triggers on ``trade`` (and the trailing extreme it has seen)."""
    sign = SIDE_SIGN[order.side]
    p = float(trade.price)
    if order.type == "trailing_stop":
        seen = order.trail_extreme if order.trail_extreme is not None else trade.price
        extreme = max(seen, trade.price) if order.side == "sell" else min(seen, trade.price)
        order = replace(order, trail_extreme=extreme)
        distance = float(order.trailing_amount) if order.trailing_amount is not None else math.nan
        fraction = float(order.trailing_percent) / 100 if order.trailing_percent is not None else math.nan
        level = trailing_stop_level(sign, float(extreme), distance, fraction)
        return not math.isnan(stop_fill_price(sign, level, p, p, p)), order
    level = float(order.stop_price or 0)
    if order.type.startswith("stop_"):
        return not math.isnan(stop_fill_price(sign, level, p, p, p)), order
    # take-profit: a sell triggers at or above its level, a buy at or below (the limit rule)
    return not math.isnan(limit_fill_price(sign, level, p, p, p)), order


def _fill_price(order: PaperOrder, trade: Trade, costs: AccountCosts, quantity: Decimal) -> Decimal | None:
    sign = SIDE_SIGN[order.side]
    p = float(trade.price)
    if order.type in MARKET_PRICED:
        return to_decimal(slipped_price(costs.quant(), sign, p, float(quantity), float(trade.amount)))
    level = limit_fill_price(sign, float(order.price or 0), p, p, p)
    return None if math.isnan(level) else to_decimal(level)


def _fee(order: PaperOrder, costs: AccountCosts, price: Decimal, quantity: Decimal, maker: bool) -> Decimal:
    notional = price * quantity * (order.contract_size or 1)
    fee = to_decimal(commission(costs.quant(), float(notional), maker, 0.0))
    if order.contract_size is not None:  # a perp's lock holds its worst fee (``perps.order_lock``)
        return max(fee, Decimal(0))
    if order.side == "buy":  # float rounding must never spend more than the lock holds
        fee = min(fee, order.locked - notional)
    return max(fee, Decimal(0))


def _expire(order: PaperOrder, reason: str, statuses: tuple[str, ...] = ()) -> Outcome:
    status = states.transition(order.status, states.EXPIRED)
    return Outcome(replace(order, status=status), None, (*statuses, status), reason)


def may_match(order: PaperOrder, low: Decimal, high: Decimal, last_ns: int) -> bool:
    """False when no trade priced within ``[low, high]`` up to ``last_ns`` can change ``order``:
    a resting limit the prices never reached, an untriggered stop or take-profit they never crossed.
    The paper exchange skips such orders without matching each trade (``match`` stays the rule)."""
    if order.status not in (states.NEW, states.PARTIALLY_FILLED) or last_ns < order.accepted_ns:
        return False
    expiring = order.expire_ns is not None and last_ns >= order.expire_ns
    if expiring or order.time_in_force in ("ioc", "fok"):
        return True
    # the level a trade must reach and whether it is reached from below (buy limit: at or below it)
    if order.type in CONDITIONAL and not order.triggered:
        level = order.stop_price if order.type != "trailing_stop" else None  # a trail moves every trade
        at_or_below = (order.side == "buy") != order.type.startswith("stop_")  # stops trigger the other way
    else:
        level = None if order.type in MARKET_PRICED else order.price
        at_or_below = order.side == "buy"
    if level is None:
        return True
    return low <= level if at_or_below else high >= level


def match(order: PaperOrder, trade: Trade, costs: AccountCosts, lot: Decimal) -> Outcome | None:
    """The effect of ``trade`` on ``order``; ``None`` when nothing changes."""
    if order.status not in (states.NEW, states.PARTIALLY_FILLED) or trade.ts_ns < order.accepted_ns:
        return None
    if order.expire_ns is not None and trade.ts_ns >= order.expire_ns:
        return _expire(order, "gtd_expired")
    armed = order
    if order.type in CONDITIONAL and not order.triggered:
        hit, armed = _triggered(order, trade)
        if not hit:
            return None if armed == order else Outcome(armed, None, ())
        armed = replace(armed, triggered=True)
    outcome = _fill(armed, trade, costs, lot)
    if outcome is None and armed != order:
        return Outcome(armed, None, ())
    return outcome


def _queue(order: PaperOrder, trade: Trade) -> tuple[PaperOrder, Decimal]:
    """The resting limit ``order`` after ``trade`` reached it, and how much of the trade is left for
    it: a trade at its price first trades the volume still ahead; a trade through it means
    everything ahead has traded."""
    if not order.queue_ahead:
        return order, trade.amount
    if trade.price != order.price:
        return replace(order, queue_ahead=Decimal(0)), trade.amount
    ahead = min(order.queue_ahead, trade.amount)
    return replace(order, queue_ahead=order.queue_ahead - ahead), trade.amount - ahead


def _fill(order: PaperOrder, trade: Trade, costs: AccountCosts, lot: Decimal) -> Outcome | None:
    """Fill a live (or just triggered) order from ``trade``, within its size and the order's lock."""
    one_shot = order.time_in_force in ("ioc", "fok")
    quantity = min(order.remaining, trade.amount)
    price = _fill_price(order, trade, costs, quantity)
    if price is None:
        return _expire(order, f"{order.time_in_force}_not_filled") if one_shot else None
    order, available = _queue(order, trade)
    if available <= 0:
        return Outcome(order, None, ())  # the trade went to the volume ahead of it
    quantity = min(quantity, available)
    maker = order.type not in MARKET_PRICED
    if order.side == "buy" and order.contract_size is None:
        rate = costs.maker_rate if maker else costs.taker_rate
        quantity = min(quantity, affordable(order.locked, price, rate, lot))
    if order.time_in_force == "fok" and quantity < order.remaining:
        return _expire(order, "fok_not_filled")
    if quantity <= 0:
        # a market-priced buy whose lock no longer pays one lot: the price ran past the buffer
        return _expire(order, "price_moved_beyond_lock")
    fee = _fee(order, costs, price, quantity, maker)
    filled = order.filled_quantity + quantity
    status = states.after_fill(order.status, filled, order.quantity)
    spent = price * quantity + fee if order.side == "buy" else quantity
    if (
        order.contract_size is not None
    ):  # a perp spends its lock pro rata (margin + fee, settled by the ledger)
        spent = lock_share(order.locked, quantity, order.remaining)
    order = replace(order, filled_quantity=filled, status=status, locked=order.locked - spent)
    fill = Fill(price, quantity, fee, "maker" if maker else "taker")
    if one_shot and status != states.FILLED:  # IOC: the rest of the order is not kept
        return replace(_expire(order, "ioc_remainder", (status,)), fill=fill)
    return Outcome(order, fill, (status,))
