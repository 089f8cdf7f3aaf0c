"""Binance spot's user data stream as ccxt pro uses it: the WebSocket API (``/ws-api/v3``).

ccxt pro (4.5) subscribes spot accounts with ``userDataStream.subscribe.signature`` on the
WebSocket API (no listenKey for spot any more): params ``apiKey``, ``timestamp`` (and
``recvWindow``) sorted, HMAC-SHA256 over them url-encoded, as ``signature``. The answer is
``{"id", "status": 200, "result": {"subscriptionId": n}}``; events then come wrapped as
``{"subscriptionId": n, "event": {...}}``, here ``executionReport`` with ``x = TRADE`` per fill.
Controls: ``drop`` closes every socket and refuses new ones until ``resume``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web
from venue_book import Book, fmt, now_ms


class UserStreams:
    def __init__(self, book: Book) -> None:
        self.book = book
        self.sockets: dict[web.WebSocketResponse, int] = {}
        self.next_subscription = 0
        self.down = False
        self.my_trades_calls = 0  # GET /api/v3/myTrades answered (polls), for tests

    async def handler(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            refusal = {"code": -1001, "msg": "Internal error; unable to process your request."}
            return web.json_response(refusal, status=503)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    await ws.send_json(self._answer(ws, json.loads(message.data)))
        finally:
            self.sockets.pop(ws, None)
        return ws

    def _answer(self, ws: web.WebSocketResponse, request: dict[str, Any]) -> dict[str, Any]:
        request_id = request.get("id")
        if request.get("method") != "userDataStream.subscribe.signature":
            return _error(request_id, 400, -1100, f"Unknown method {request.get('method')!r}.")
        params = {k: str(v) for k, v in (request.get("params") or {}).items()}
        signature = params.pop("signature", "")
        if params.get("apiKey") != self.book.data["api_key"]:
            return _error(request_id, 401, -2015, "Invalid API-key, IP, or permissions for action.")
        payload = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        expected = hmac.new(self.book.data["secret"].encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature.lower()):
            return _error(request_id, 400, -1022, "Signature for this request is not valid.")
        if abs(now_ms() - int(params.get("timestamp", "0"))) > int(params.get("recvWindow", "5000")):
            return _error(request_id, 400, -1021, "Timestamp for this request is outside of the recvWindow.")
        subscription = self.sockets[ws] = self.next_subscription
        self.next_subscription += 1
        rate_limits = [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                        "limit": 6000, "count": 2}]  # fmt: skip
        return {"id": request_id, "status": 200, "result": {"subscriptionId": subscription},
                "rateLimits": rate_limits}  # fmt: skip

    async def publish_trade(self, order: dict[str, Any], trade: dict[str, Any]) -> None:
        """One ``executionReport`` (execution type TRADE) to every subscribed socket."""
        event = execution_report(order, trade)
        for ws, subscription in list(self.sockets.items()):
            if not ws.closed:
                await ws.send_json({"subscriptionId": subscription, "event": event})

    async def drop(self) -> None:
        self.down = True
        for ws in list(self.sockets):
            await ws.close()
        self.sockets.clear()


def _error(request_id: Any, status: int, code: int, msg: str) -> dict[str, Any]:
    return {"id": request_id, "status": status, "error": {"code": code, "msg": msg}}


def execution_report(order: dict[str, Any], trade: dict[str, Any]) -> dict[str, Any]:
    """Binance's spot ``executionReport`` for one trade of ``order`` (the order after the trade)."""
    price = fmt(Decimal(order["price"]))
    return {
        "e": "executionReport", "E": now_ms(), "s": order["symbol"], "c": order["clientOrderId"],
        "S": order["side"], "o": order["type"], "f": order["timeInForce"],
        "q": fmt(Decimal(order["origQty"])), "p": price, "P": fmt(Decimal(order.get("stopPrice", "0"))),
        "F": "0.00000000", "g": -1, "C": "",
        "x": "TRADE", "X": order["status"], "r": "NONE", "i": order["orderId"], "l": trade["qty"],
        "z": fmt(Decimal(order["executedQty"])), "L": trade["price"], "n": trade["commission"],
        "N": trade["commissionAsset"], "T": trade["time"], "t": trade["id"], "v": -1, "I": trade["id"] * 2,
        "w": order["status"] == "PARTIALLY_FILLED", "m": trade["isMaker"], "M": True, "O": order["time"],
        "Z": fmt(Decimal(order["cummulativeQuoteQty"])), "Y": trade["quoteQty"], "Q": "0.00000000",
        "W": order["workingTime"], "V": "EXPIRE_MAKER",
    }  # fmt: skip
