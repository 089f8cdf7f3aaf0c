"""Reduce-only orders on a spot account: they may only make the holding of the base asset smaller.

On spot the position is what the account holds of the base asset, always long, so:
- a reduce-only **buy** would increase it: refused (``reduce_only``, ``would_increase_position``);
- a reduce-only **sell** is **trimmed** to the base that is free (held and not already promised to
  another open sell), on the lot grid, and refused (``no_position``) when not one lot is free.

Trimmed rather than refused, as venues with reduce-only orders do (Binance and Bybit derivatives
shrink a reduce-only order to the position): the trader's intent is "close up to this much", and a
sell larger than the holding can never flip a spot position short, it can only be too big. The
reply's ``quantity`` is the quantity kept. Trimming happens before every other check, so the
minimum quantity and notional apply to what is left.
"""

from __future__ import annotations

from decimal import Decimal

from tradeloom.order_router.domain.validation import Problem
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderSubmit


def apply_reduce_only(
    order: OrderSubmit, instrument: Instrument | None, free: dict[str, Decimal]
) -> tuple[OrderSubmit, list[Problem]]:
    """``order`` as it may go (trimmed), or the problem refusing it; unchanged if not reduce-only."""
    if not order.reduce_only or instrument is None:
        return order, []
    if order.side == "buy":
        message = "a buy adds to the spot holding: a reduce-only order may only sell"
        return order, [Problem("reduce_only", "would_increase_position", message)]
    held = free.get(instrument.base, Decimal(0))
    lots = (held // instrument.lot_size) * instrument.lot_size
    if lots <= 0:
        return order, [Problem("reduce_only", "no_position", f"no {instrument.base} is free to reduce")]
    if order.quantity <= lots:
        return order, []
    return order.model_copy(update={"quantity": lots}), []
