"""Binance USDⓈ-M user data stream as ccxt pro uses it: a listenKey from ``POST /fapi/v1/listenKey``
(API key header only, no signature; ``PUT`` keeps it alive), then a websocket on
``/private/ws?listenKey=…`` pushing raw ``ORDER_TRADE_UPDATE`` events (execution type TRADE per
fill). ``drop`` closes every socket and refuses new ones until ``down`` is cleared.
"""

from __future__ import annotations

import secrets
from typing import Any

from aiohttp import web
from venue_book import Book, VenueReject, now_ms


class FuturesStreams:
    def __init__(self, book: Book) -> None:
        self.book = book
        self.listen_keys: set[str] = set()
        self.sockets: set[web.WebSocketResponse] = set()
        self.down = False

    def _api_key(self, request: web.Request) -> None:
        if request.headers.get("X-MBX-APIKEY") != self.book.data["api_key"]:
            raise VenueReject(401, -2015, "Invalid API-key, IP, or permissions for action.")

    async def new_listen_key(self, request: web.Request) -> web.Response:
        self._api_key(request)
        key = secrets.token_urlsafe(48)
        self.listen_keys.add(key)
        return web.json_response({"listenKey": key})

    async def keep_alive(self, request: web.Request) -> web.Response:
        self._api_key(request)
        return web.json_response({})

    async def handler(self, request: web.Request) -> web.StreamResponse:
        if self.down or request.query.get("listenKey") not in self.listen_keys:
            return web.json_response({"code": -1125, "msg": "This listenKey does not exist."}, status=400)
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            async for _ in ws:  # nothing to answer: the stream only pushes
                pass
        finally:
            self.sockets.discard(ws)
        return ws

    async def publish_trade(self, order: dict[str, Any], trade: dict[str, Any]) -> None:
        event = {"e": "ORDER_TRADE_UPDATE", "E": now_ms(), "T": trade["time"], "o": {
            "s": order["symbol"], "c": order["clientOrderId"], "S": order["side"], "o": order["type"],
            "f": order["timeInForce"], "q": order["origQty"], "p": order["price"], "ap": order["avgPrice"],
            "sp": "0", "x": "TRADE", "X": order["status"], "i": order["orderId"], "l": trade["qty"],
            "z": order["executedQty"], "L": trade["price"], "N": trade["commissionAsset"],
            "n": trade["commission"], "T": trade["time"], "t": trade["id"], "b": "0", "a": "0",
            "m": trade["maker"], "R": order["reduceOnly"], "wt": "CONTRACT_PRICE", "ot": order["origType"],
            "ps": order["positionSide"], "cp": False, "rp": trade["realizedPnl"], "pP": False, "si": 0,
            "ss": 0, "V": "EXPIRE_MAKER", "pm": "NONE", "gtd": 0,
        }}  # fmt: skip
        for ws in list(self.sockets):
            if not ws.closed:
                await ws.send_json(event)

    async def drop(self) -> None:
        self.down = True
        for ws in list(self.sockets):
            await ws.close()
        self.sockets.clear()

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/fapi/v1/listenKey", self.new_listen_key)
        app.router.add_put("/fapi/v1/listenKey", self.keep_alive)
        app.router.add_get("/private/ws", self.handler)
