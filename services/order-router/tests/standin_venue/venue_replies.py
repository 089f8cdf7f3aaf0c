"""Binance spot answer shapes for a new order (FULL) and a canceled order."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from venue_book import Book, now_ms, order_view


def new_order_reply(book: Book, order: dict[str, Any]) -> dict[str, Any]:
    """POST /api/v3/order answer with ``newOrderRespType=FULL`` (fills included)."""
    trades = [t for t in book.data["trades"] if t["orderId"] == order["orderId"]]
    view = order_view(order)
    reply = {key: view[key] for key in ("symbol", "orderId", "orderListId", "clientOrderId")}
    reply["transactTime"] = order["time"]
    reply |= {key: view[key] for key in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status")}
    reply |= {key: view[key] for key in ("timeInForce", "type", "side", "workingTime")}
    reply["selfTradePreventionMode"] = view["selfTradePreventionMode"]
    reply["origQuoteOrderQty"] = view["origQuoteOrderQty"]
    if Decimal(view["stopPrice"]) != 0:  # a conditional field: only on conditional orders
        reply["stopPrice"] = view["stopPrice"]
    reply["fills"] = [
        {"price": t["price"], "qty": t["qty"], "commission": t["commission"],
         "commissionAsset": t["commissionAsset"], "tradeId": t["id"]}
        for t in trades
    ]  # fmt: skip
    return reply


def cancel_reply(order: dict[str, Any]) -> dict[str, Any]:
    """DELETE /api/v3/order answer."""
    view = order_view(order)
    reply = {
        "symbol": order["symbol"],
        "origClientOrderId": order["clientOrderId"],
        "orderId": order["orderId"],
    }
    reply |= {"orderListId": -1, "clientOrderId": f"cancel-{order['orderId']}", "transactTime": now_ms()}
    reply |= {k: view[k] for k in ("price", "origQty", "executedQty", "cummulativeQuoteQty", "status")}
    reply |= {k: view[k] for k in ("timeInForce", "type", "side", "selfTradePreventionMode")}
    return reply
