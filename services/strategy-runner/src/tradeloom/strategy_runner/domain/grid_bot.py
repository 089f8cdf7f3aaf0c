"""A grid bot's ladder (pure, no I/O): which limit orders rest, and what a fill turns them into.

The rules are ``tradeloom.quant``'s long grid (``simulator.lots.grid_simulate``), so a grid bot
trades like its backtest: ``levels`` prices evenly spaced from ``lower`` to ``upper``; lot ``k``
rests a buy limit at level ``k`` while the last close is above it, and once bought a sell limit
one step up, at level ``k + 1``; when that sell fills the lot starts a new cycle with its buy.

Every order's ``client_order_id`` is a function of (bot, lot, side, cycle): placing the ladder
again after a restart or a redelivered fill can never send an order twice.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal

from tradeloom.shared.bot_orders import BOT_ORDER_PREFIX

MAX_LEVELS = 200
_GRID_TAIL = re.compile(r"(\d+)([bs])(\d+)")


@dataclass(frozen=True)
class GridConfig:
    lower: Decimal
    upper: Decimal
    levels: int
    quantity_per_level: Decimal


@dataclass(frozen=True)
class Problem:
    """One invalid field: what a 422 names (``field``, ``rule``, a message)."""

    field: str
    rule: str
    message: str


@dataclass(frozen=True)
class Lot:
    index: int
    holding: bool = False
    cycle: int = 0


@dataclass(frozen=True)
class GridOrder:
    client_order_id: str
    lot: int
    side: str  # buy | sell
    price: Decimal
    quantity: Decimal


def grid_levels(config: GridConfig, tick: Decimal) -> list[Decimal]:
    """The ladder's prices, evenly spaced and rounded to the tick (the ends exactly)."""
    step = (config.upper - config.lower) / (config.levels - 1)
    inner = [config.lower + step * k for k in range(1, config.levels - 1)]
    rounded = [(p / tick).to_integral_value(rounding=ROUND_HALF_EVEN) * tick for p in inner]
    return [config.lower, *rounded, config.upper]


def grid_problems(
    config: GridConfig, *, tick: Decimal, lot_size: Decimal, price: Decimal, free_quote: Decimal
) -> list[Problem]:
    """Every reason the grid cannot run on this instrument and balance, each naming its field."""
    problems = []
    if config.upper <= config.lower:
        problems.append(Problem("upper", "not_above_lower", f"must be above lower {config.lower}"))
    if not 2 <= config.levels <= MAX_LEVELS:
        problems.append(Problem("levels", "out_of_range", f"must be from 2 to {MAX_LEVELS}"))
    for field in ("lower", "upper"):
        if getattr(config, field) % tick:
            problems.append(Problem(field, "off_tick", f"not a multiple of the tick size {tick}"))
    if config.quantity_per_level <= 0 or config.quantity_per_level % lot_size:
        problems.append(
            Problem(
                "quantity_per_level", "off_lot", f"must be a positive multiple of the lot size {lot_size}"
            )
        )
    if problems:
        return problems
    levels = grid_levels(config, tick)
    if len(set(levels)) < len(levels):
        return [Problem("levels", "too_dense", f"levels closer than the tick size {tick}")]
    budget = sum((p * config.quantity_per_level for p in levels[:-1] if p < price), Decimal(0))
    if budget > free_quote:
        return [
            Problem(
                "quantity_per_level", "over_balance",
                f"the buys below {price} need {budget}, more than the free balance {free_quote}",
            )
        ]  # fmt: skip
    return []


def grid_client_order_id(bot_id: str, lot: int, side: str, cycle: int) -> str:
    """Deterministic per (bot, lot, side, cycle) (≤ 64 characters); read back by
    ``tradeloom.shared.bot_orders.bot_of_client_order_id`` like a bar order's."""
    return f"{BOT_ORDER_PREFIX}{uuid.UUID(bot_id).hex}-g{lot}{side[0]}{cycle}"


def new_lots(config: GridConfig) -> list[Lot]:
    return [Lot(k) for k in range(config.levels - 1)]


def resting_orders(
    bot_id: str, config: GridConfig, levels: Sequence[Decimal], lots: Sequence[Lot], last_close: Decimal
) -> list[GridOrder]:
    """The orders that should rest now: each held lot's sell one step up, each free lot's buy at its
    level while the last close is above it."""
    orders = []
    for lot in lots:
        if lot.holding:
            side, price = "sell", levels[lot.index + 1]
        elif last_close > levels[lot.index]:
            side, price = "buy", levels[lot.index]
        else:
            continue
        cid = grid_client_order_id(bot_id, lot.index, side, lot.cycle)
        orders.append(GridOrder(cid, lot.index, side, price, config.quantity_per_level))
    return orders


def after_fill(lot: Lot, side: str) -> Lot:
    """A filled buy holds the lot (its sell goes one step up); a filled sell frees it for a new
    cycle (its buy goes back one step down)."""
    if side == "buy":
        return replace(lot, holding=True)
    return replace(lot, holding=False, cycle=lot.cycle + 1)


def parse_grid_client_order_id(bot_id: str, client_order_id: str) -> tuple[int, str, int] | None:
    """(lot, side, cycle) of one of ``bot_id``'s grid orders, else ``None`` (another bot's, a bar
    order's, or not a bot's)."""
    head = f"{BOT_ORDER_PREFIX}{uuid.UUID(bot_id).hex}-g"
    if not client_order_id.startswith(head):
        return None
    match = _GRID_TAIL.fullmatch(client_order_id[len(head) :])
    if match is None:
        return None
    return int(match.group(1)), "buy" if match.group(2) == "b" else "sell", int(match.group(3))


def on_fill(
    bot_id: str, config: GridConfig, levels: Sequence[Decimal], lots: Sequence[Lot], client_order_id: str
) -> tuple[list[Lot], GridOrder | None]:
    """The lots after a fill of ``client_order_id`` and the one order that replaces it.

    Only the order the lot rests now (its side, its cycle) moves it: a redelivered fill, one of an
    earlier cycle or another bot's changes nothing and places nothing, so each fill is applied and
    replaced exactly once however often it arrives."""
    parsed = parse_grid_client_order_id(bot_id, client_order_id)
    current = list(lots)
    if parsed is None:
        return current, None
    index, side, cycle = parsed
    if not 0 <= index < len(current):
        return current, None
    lot = current[index]
    if lot.cycle != cycle or lot.holding != (side == "sell"):
        return current, None
    moved = after_fill(lot, side)
    current[index] = moved
    next_side, price = ("sell", levels[index + 1]) if moved.holding else ("buy", levels[index])
    cid = grid_client_order_id(bot_id, index, next_side, moved.cycle)
    return current, GridOrder(cid, index, next_side, price, config.quantity_per_level)


def grid_order_key(lot: int, side: str, cycle: int) -> int:
    """The order's ``bar_ns`` in the bot's order book: negative (no bar is), one per (lot, side,
    cycle), so the (bot, symbol, bar) uniqueness of bot orders keeps each grid order once."""
    return -(cycle * 2 * MAX_LEVELS + lot * 2 + (side == "sell") + 1)


def next_generation(lots: Sequence[Lot]) -> list[Lot]:
    """On a start after a stop (which cancelled every resting order): a new client id generation
    per lot, so a cancelled order's id is never reused and a late fill of one changes nothing."""
    return [replace(lot, cycle=lot.cycle + 1) for lot in lots]
