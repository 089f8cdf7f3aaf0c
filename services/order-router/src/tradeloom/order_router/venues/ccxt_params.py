"""The ``params`` of ccxt's ``create_order`` for one of our orders (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradeloom.order_router.venues.models import PlaceOrder
from tradeloom.shared.errors import field_invalid


def create_params(order: PlaceOrder, market: Mapping[str, Any]) -> dict[str, Any]:
    """Our client id; a stop's ``triggerPrice``, a take-profit's ``takeProfitPrice``, a trailing
    stop's ``trailingPercent`` (ccxt picks the venue's conditional order type from them: on
    Binance spot ``STOP_LOSS`` with ``trailingDelta``, which needs ``stopLossOrTakeProfit``; on a
    USDⓈ-M perpetual an algo order, ``TRAILING_STOP_MARKET`` with ``callbackRate``); time in
    force, post-only, hedge mode's position side or reduce-only. 422 naming the field for what no
    venue takes (a limit without price, a conditional order without trigger, a market option)."""
    if order.is_limit and order.price is None:
        raise field_invalid("price", f"a {order.kind} order needs a price")
    conditional = order.kind.startswith(("stop", "take_profit"))
    if conditional and order.trigger_price is None:
        raise field_invalid("trigger_price", f"a {order.kind} order needs a trigger price")
    if market.get("option") and not order.is_limit:  # Binance options are limit-only (ccxt agrees)
        raise field_invalid("type", f"{order.kind} orders are not taken on options; use limit")
    params: dict[str, Any] = {"clientOrderId": order.client_order_id}
    if order.trigger_price is not None and conditional:
        trigger_param = "takeProfitPrice" if order.kind.startswith("take_profit") else "triggerPrice"
        params[trigger_param] = str(order.trigger_price)
    if order.kind == "trailing_stop":
        params["trailingPercent"] = str(order.trailing_percent)
        if market.get("spot"):
            params["stopLossOrTakeProfit"] = "stopLoss"
    if order.time_in_force:
        params["timeInForce"] = order.time_in_force
    if order.post_only:
        params["postOnly"] = True
    if order.position_side is not None:  # hedge mode: the side names the position; no reduceOnly
        params["positionSide"] = order.position_side.upper()
    elif order.reduce_only:
        params["reduceOnly"] = True
    return params
