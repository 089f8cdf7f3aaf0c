"""What one fill of a DCA bot's order changes (pure, no I/O): the cycle's new fills, the orders to
place and the ones to cancel.

The orders a cycle wants are ``dca_bot.cycle_orders`` of its fills; a fill's reaction is the
difference between what the cycle wanted before and after it: the base fill places the safety
ladder and the first take-profit, a safety fill replaces the take-profit (``t<n>`` → ``t<n+1>``)
at the new average, the take-profit's fill cancels the unfilled safeties and starts the next
cycle's base. Only an order the cycle rests now moves it: a redelivered fill, one of an earlier
cycle or another bot's changes nothing, so each fill is reacted to exactly once.
A fill here is the order's full fill (order status ``filled``).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from tradeloom.shared.bot_orders import BOT_ORDER_PREFIX
from tradeloom.strategy_runner.domain.dca_bot import DcaConfig, DcaOrder, Step, cycle_orders, safety_ladder

_DCA_TAIL = re.compile(r"(\d+)(b|s\d+|t\d+)")


@dataclass(frozen=True)
class DcaState:
    cycle: int = 0
    fills: tuple[Step, ...] = ()


@dataclass(frozen=True)
class DcaReaction:
    state: DcaState
    place: list[DcaOrder] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)  # client order ids


def parse_dca_client_order_id(bot_id: str, client_order_id: str) -> tuple[int, str] | None:
    """(cycle, step) of one of ``bot_id``'s DCA orders (step ``b``, ``s<k>`` or ``t<n>``), else
    ``None``."""
    head = f"{BOT_ORDER_PREFIX}{uuid.UUID(bot_id).hex}-d"
    if not client_order_id.startswith(head):
        return None
    match = _DCA_TAIL.fullmatch(client_order_id[len(head) :])
    return None if match is None else (int(match.group(1)), match.group(2))


def dca_on_fill(
    bot_id: str, config: DcaConfig, state: DcaState, client_order_id: str, price: Decimal, *,
    tick: Decimal, lot_size: Decimal,
) -> DcaReaction:  # fmt: skip
    """The reaction to a full fill of ``client_order_id`` at (average) ``price``."""
    unchanged = DcaReaction(state)
    before = cycle_orders(bot_id, config, state.cycle, state.fills, tick=tick, lot_size=lot_size)
    parsed = parse_dca_client_order_id(bot_id, client_order_id)
    if parsed is None or parsed[0] != state.cycle:
        return unchanged
    if client_order_id not in {order.client_order_id for order in before}:
        return unchanged  # filled already, or an order this cycle no longer rests
    step = parsed[1]
    if step.startswith("t"):
        new = DcaState(state.cycle + 1)
    elif step == "b":
        new = DcaState(state.cycle, (Step(0, price, config.base_quantity),))
    else:
        k = int(step[1:])
        ladder = {s.step: s for s in safety_ladder(config, state.fills[0].price, tick, lot_size)}
        new = DcaState(state.cycle, (*state.fills, Step(k, price, ladder[k].quantity)))
    after = cycle_orders(bot_id, config, new.cycle, new.fills, tick=tick, lot_size=lot_size)
    before_ids = {order.client_order_id for order in before}
    after_ids = {order.client_order_id for order in after}
    return DcaReaction(
        new,
        place=[order for order in after if order.client_order_id not in before_ids],
        cancel=[
            order.client_order_id
            for order in before
            if order.client_order_id not in after_ids and order.client_order_id != client_order_id
        ],
    )


def dca_order_key(cycle: int, step: str) -> int:
    """The order's ``bar_ns`` in the bot's order book: negative (no bar is), one per (cycle, step)
    (``b``; ``s<k>``, k ≤ 50; ``t<n>``, n ≤ 51)."""
    code = 0 if step == "b" else int(step[1:]) + (0 if step[0] == "s" else 100)
    return -(cycle * 200 + code + 1)
