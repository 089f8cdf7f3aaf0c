"""Which conditional orders a venue market takes through ccxt, and Binance USDⓈ-M's algo orders.

ccxt's Binance sends every conditional order of a linear perpetual (a ``triggerPrice``,
``takeProfitPrice`` or ``trailingPercent``) to the algo-order API (``POST /fapi/v1/algoOrder``,
``algoType`` CONDITIONAL, our client id as ``clientAlgoId``); with ``{"trigger": True}`` its
``fetchOrder``, ``fetchOpenOrders`` and ``cancelOrder`` go to ``GET``/``DELETE /fapi/v1/algoOrder``
and ``GET /fapi/v1/openAlgoOrders``. An algo order has an ``algoId``, not an order id; when it
triggers the venue places a normal order (``actualOrderId``) whose fills come from the normal
trades endpoint. So an algo order is known to order-router under ``algo-<algoId>`` until it
triggered, then under the triggered order's id (reconcile relinks it: ``MarkAccepted``), and its
fills map to it like any other order's.

COIN-M (inverse) perpetuals and other venues' perpetuals are not taken (their ccxt paths differ:
``dapi`` algo orders keep ``newClientOrderId``) until built and tested the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from tradeloom.order_router.venues.ccxt_parse import parse_order
from tradeloom.order_router.venues.models import VenueOrder

CONDITIONAL_KINDS = frozenset(
    {"stop_market", "stop_limit", "take_profit_market", "take_profit_limit", "trailing_stop"}
)
ALGO_VENUES = frozenset({"binance", "binanceusdm"})  # ccxt classes with fapi's algo-order routing
SPOT_TRAILING_VENUES = frozenset({"binance"})  # STOP_LOSS with trailingDelta (bips)
ALGO_ID_PREFIX = "algo-"
TRIGGERED = frozenset({"TRIGGERED", "FINISHED"})  # the algo order became a normal order
# (low, high, step) in percent: Binance spot trailingDelta 10..2000 bips; USDⓈ-M callbackRate
SPOT_TRAIL = (Decimal("0.1"), Decimal(20), Decimal("0.01"))
PERP_TRAIL = (Decimal("0.1"), Decimal(10), Decimal("0.1"))


def is_algo_market(venue: str, market: Mapping[str, Any]) -> bool:
    """Conditional orders of this market go through Binance USDⓈ-M's algo-order API."""
    return venue in ALGO_VENUES and bool(market.get("swap")) and bool(market.get("linear"))


def conditional_problem(
    venue: str, symbol: str, market: Mapping[str, Any], kind: str, trailing_percent: Decimal | None
) -> tuple[str, str] | None:
    """(field, why) when ``venue`` cannot rest a ``kind`` order on ``market`` through
    order-router, else None (not a conditional kind: None). Spot: stops and take-profits as
    ccxt sends them; a trailing stop on Binance only. Perpetuals: Binance USDⓈ-M only, through
    the algo-order API. A trailing percentage off the venue's steps is refused, never rounded."""
    if kind not in CONDITIONAL_KINDS:
        return None
    refused, bounds = _route(venue, symbol, market, kind)
    if refused is not None or bounds is None or kind != "trailing_stop" or trailing_percent is None:
        return refused
    low, high, step = bounds
    if not low <= trailing_percent <= high or trailing_percent % step != 0:
        return "trailing_percent", f"{venue} trails {symbol} by {low}..{high} % in steps of {step}"
    return None


def _route(
    venue: str, symbol: str, market: Mapping[str, Any], kind: str
) -> tuple[tuple[str, str] | None, tuple[Decimal, Decimal, Decimal] | None]:
    """A refusal of ``kind`` on this market, or the trailing percentages the venue takes there."""
    if market.get("swap"):
        if not is_algo_market(venue, market):
            return ("type", (
                f"{kind} orders on {venue} {symbol} are not taken through order-router "
                "(conditional orders on perpetuals: Binance USDⓈ-M only); use market or limit"
            )), None  # fmt: skip
        return None, PERP_TRAIL
    if market.get("spot"):
        if kind == "trailing_stop" and venue not in SPOT_TRAILING_VENUES:
            return ("type", f"{venue}: no native trailing stop through order-router (Binance only)"), None
        return None, SPOT_TRAIL
    if kind == "trailing_stop":
        return ("type", f"{symbol}: no native trailing stop on this market here"), None
    return None, None


def algo_info(raw: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The venue's algo order behind a ccxt order, or None for a normal order."""
    info = raw.get("info")
    return info if isinstance(info, Mapping) and "algoId" in info else None


def algo_view(order: VenueOrder) -> VenueOrder:
    """An algo order not triggered (yet) as order-router sees it: its own id space, and open
    while it waits (ccxt reads ``TRIGGERED``/``FINISHED`` as closed: that says nothing of fills)."""
    status = order.status if order.status in ("canceled", "expired", "rejected") else "new"
    return dataclasses.replace(order, venue_order_id=ALGO_ID_PREFIX + order.venue_order_id, status=status)


def triggered_order_id(info: Mapping[str, Any]) -> str | None:
    """The normal order a triggered algo order became (``actualOrderId``), if any."""
    actual = str(info.get("actualOrderId") or "")
    return actual if info.get("algoStatus") in TRIGGERED and actual not in ("", "0") else None


def parse_any(raw: dict[str, Any]) -> VenueOrder:
    """ccxt's order, an algo order (not triggered) in its own id space (``algo_view``)."""
    order = parse_order(raw)
    return algo_view(order) if algo_info(raw) is not None else order


def is_waiting_algo(order: VenueOrder) -> bool:
    """``order`` is an algo order not triggered yet (``algo_view``'s id)."""
    return order.venue_order_id.startswith(ALGO_ID_PREFIX)
