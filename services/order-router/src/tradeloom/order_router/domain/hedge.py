"""Hedge position mode on perpetuals: a long and a short position on one symbol, side by side.

In one-way mode (the default) an account holds one signed position per perpetual and an order's
side decides whether it opens or reduces it. In hedge mode the order names the position it belongs
to (``position_side``, as Binance's ``positionSide`` and ccxt's ``params={"positionSide": ...}``):
a buy on ``long`` opens or grows the long, a sell on ``long`` closes it; a sell on ``short`` opens
the short, a buy on ``short`` closes it. A closing order never opens the other side: it is trimmed
to what the named position holds beyond the other open closing orders on it (as a reduce-only
order is in one-way mode), and refused when nothing is left to close. Each side is a position of
its own (``perp_positions`` row): margin, entry, realised PnL, funding and liquidation per side.
"""

from __future__ import annotations

from decimal import Decimal

from tradeloom.order_router.domain.perps import PerpPosition
from tradeloom.order_router.domain.validation import Problem
from tradeloom.shared.contracts.orders import OrderSubmit

HEDGE = "hedge"


def closes(side: str, position_side: str) -> bool:
    """An order on ``side`` closes (rather than opens) the ``position_side`` position."""
    return (side == "sell") == (position_side == "long")


def position_side_problems(position_mode: str, order: OrderSubmit) -> list[Problem]:
    """``position_side`` is required in hedge mode and refused in one-way mode."""
    if position_mode == HEDGE and order.position_side is None:
        return [
            Problem("position_side", "required", "hedge position mode: name the position (long or short)")
        ]
    if position_mode != HEDGE and order.position_side is not None:
        message = "only in hedge position mode (the symbol is in one_way mode)"
        return [Problem("position_side", "not_hedge_mode", message)]
    return []


def hedge_close(
    order: OrderSubmit, position: PerpPosition, closing_open: Decimal
) -> tuple[OrderSubmit, list[Problem]]:
    """A hedge-mode order against its named ``position`` (signed: a long ≥ 0, a short ≤ 0), with
    ``closing_open`` contracts of other open orders already closing it. An opening order passes
    unless it is reduce-only; a closing one is trimmed to what is left to close."""
    assert order.position_side is not None
    if not closes(order.side, order.position_side):
        if order.reduce_only:
            message = f"a {order.side} on the {order.position_side} position opens it: nothing to reduce"
            return order, [Problem("reduce_only", "would_increase_position", message)]
        return order, []
    left = abs(position.quantity) - closing_open
    if left <= 0:
        field = "reduce_only" if order.reduce_only else "position_side"
        return order, [Problem(field, "no_position", f"no {order.position_side} position left to close")]
    if order.quantity <= left:
        return order, []
    return order.model_copy(update={"quantity": left}), []


def hedge_fill_quantity(position: PerpPosition, position_side: str, side: str, quantity: Decimal) -> Decimal:
    """The part of a fill that moves a hedge-mode position: a closing fill stops at flat (it never
    turns the long row short or the short row long); everything in one-way mode."""
    if not position_side or not closes(side, position_side):
        return quantity
    return min(quantity, abs(position.quantity))
