"""A DCA bot's cycle (pure, no I/O): a base buy, safety buys at growing % steps below its price,
and one take-profit sell of everything at a fraction above the average entry.

Safety order ``k`` (1-based) rests at ``entry × (1 − d_k)`` with ``d_1 = price_deviation`` and
``d_k = d_(k−1) + price_deviation × step_scale^(k−1)``, for ``safety_quantity ×
volume_scale^(k−1)``. Each fill moves the take-profit to ``average × (1 + take_profit)``; when
it fills, the unfilled safety orders are cancelled and a new cycle starts with a new base order.

Every order's ``client_order_id`` is a function of (bot, cycle, step): the base ``b``, the safety
orders ``s<k>``, the take-profit ``t<n>`` placed after ``n`` fills, so a restart or a redelivered
fill never sends an order twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from tradeloom.shared.bot_orders import BOT_ORDER_PREFIX
from tradeloom.strategy_runner.domain.grid_bot import Problem

MAX_SAFETY_ORDERS = 50


@dataclass(frozen=True)
class DcaConfig:
    base_quantity: Decimal
    safety_quantity: Decimal
    price_deviation: Decimal  # fraction below the base price of the first safety order
    max_safety_orders: int
    take_profit: Decimal  # fraction above the average entry
    step_scale: Decimal = Decimal(1)
    volume_scale: Decimal = Decimal(1)


@dataclass(frozen=True)
class Step:
    step: int  # 0: the base order, k: safety order k
    price: Decimal
    quantity: Decimal


@dataclass(frozen=True)
class DcaOrder:
    client_order_id: str
    side: str
    type: str  # market | limit
    quantity: Decimal
    price: Decimal | None = None


def _floor(value: Decimal, unit: Decimal) -> Decimal:
    return (value / unit).to_integral_value(rounding=ROUND_FLOOR) * unit


def safety_ladder(config: DcaConfig, entry: Decimal, tick: Decimal, lot_size: Decimal) -> list[Step]:
    """The safety orders below a base filled at ``entry`` (prices down to the tick, sizes to lots)."""
    steps, deviation = [], Decimal(0)
    for k in range(1, config.max_safety_orders + 1):
        deviation += config.price_deviation * config.step_scale ** (k - 1)
        quantity = _floor(config.safety_quantity * config.volume_scale ** (k - 1), lot_size)
        steps.append(Step(k, _floor(entry * (1 - deviation), tick), quantity))
    return steps


def average_entry(fills: Sequence[Step]) -> Decimal:
    total = sum((f.quantity for f in fills), Decimal(0))
    return sum((f.price * f.quantity for f in fills), Decimal(0)) / total


def take_profit_price(config: DcaConfig, fills: Sequence[Step], tick: Decimal) -> Decimal:
    """``average × (1 + take_profit)`` rounded up to the tick: never below the asked profit."""
    target = average_entry(fills) * (1 + config.take_profit)
    return (target / tick).to_integral_value(rounding=ROUND_CEILING) * tick


def dca_problems(
    config: DcaConfig, *, tick: Decimal, lot_size: Decimal, price: Decimal, free_quote: Decimal
) -> list[Problem]:
    """Every reason the DCA cannot run on this instrument and balance, each naming its field; the
    budget is the base at ``price`` plus every safety order."""
    problems = []
    for field in ("base_quantity", "safety_quantity"):
        value = getattr(config, field)
        if value <= 0 or value % lot_size:
            problems.append(
                Problem(field, "off_lot", f"must be a positive multiple of the lot size {lot_size}")
            )
    if not 0 < config.price_deviation < 1:
        problems.append(Problem("price_deviation", "out_of_range", "must be above 0 and below 1"))
    if not 0 <= config.max_safety_orders <= MAX_SAFETY_ORDERS:
        problems.append(
            Problem("max_safety_orders", "out_of_range", f"must be from 0 to {MAX_SAFETY_ORDERS}")
        )
    if not 0 < config.take_profit <= 10:
        problems.append(Problem("take_profit", "out_of_range", "must be above 0 and at most 10"))
    for field in ("step_scale", "volume_scale"):
        if not 0 < getattr(config, field) <= 10:
            problems.append(Problem(field, "out_of_range", "must be above 0 and at most 10"))
    if problems:
        return problems
    ladder = safety_ladder(config, price, tick, lot_size)
    if ladder and ladder[-1].price <= 0:
        return [Problem("price_deviation", "below_zero", "the last safety order's price is not above 0")]
    budget = price * config.base_quantity + sum((s.price * s.quantity for s in ladder), Decimal(0))
    if budget > free_quote:
        field = "safety_quantity" if ladder else "base_quantity"
        return [
            Problem(
                field, "over_balance", f"the cycle needs {budget}, more than the free balance {free_quote}"
            )
        ]
    return []


def dca_client_order_id(bot_id: str, cycle: int, step: str) -> str:
    """Deterministic per (bot, cycle, step) (≤ 64 characters); read back by
    ``tradeloom.shared.bot_orders.bot_of_client_order_id``."""
    return f"{BOT_ORDER_PREFIX}{uuid.UUID(bot_id).hex}-d{cycle}{step}"


def cycle_orders(
    bot_id: str, config: DcaConfig, cycle: int, fills: Sequence[Step], *, tick: Decimal, lot_size: Decimal
) -> list[DcaOrder]:
    """The orders a cycle wants with these fills (base first): no fill yet → the market base buy;
    after the base → the unfilled safety buys and the take-profit sell of everything held."""
    if not fills:
        cid = dca_client_order_id(bot_id, cycle, "b")
        return [DcaOrder(cid, "buy", "market", config.base_quantity)]
    done = {f.step for f in fills}
    orders = [
        DcaOrder(dca_client_order_id(bot_id, cycle, f"s{s.step}"), "buy", "limit", s.quantity, s.price)
        for s in safety_ladder(config, fills[0].price, tick, lot_size)
        if s.step not in done
    ]
    held = sum((f.quantity for f in fills), Decimal(0))
    tp_id = dca_client_order_id(bot_id, cycle, f"t{len(fills)}")
    orders.append(DcaOrder(tp_id, "sell", "limit", held, take_profit_price(config, fills, tick)))
    return orders
