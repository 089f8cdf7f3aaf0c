"""A local stand-in for the subset of Binance's public spot API that ccxt calls.

REST (``/api/v3``): ``exchangeInfo`` (load_markets), ``aggTrades`` and ``trades`` (fetch_trades),
``depth`` (fetch_order_book and ccxt.pro's book snapshot), ``klines`` (fetch_ohlcv, built from the
same scripted trades). Options (``/eapi/v1``: ``exchangeInfo``, ``ticker``, ``mark``) of the
``options`` listed, shaped as in ``standin_binance_options.py``; USDⓈ-M perpetuals (``/fapi/v1``:
``exchangeInfo``, ``fundingRate``, ``premiumIndex``) of the ``perps`` listed, with the ``funding``
history, shaped as in ``standin_binance_perps.py``. Websocket (any path, as ccxt
appends ``/<stream index>``): ``SUBSCRIBE``
answered ``{"result": null, "id": …}``, then raw ``trade``/``aggTrade`` events and ``depthUpdate``
diffs (consecutive update ids after the snapshot's ``lastUpdateId``).

The trade script is a list of trades; ``segments`` says which slice of it each accepted websocket
connection streams. A connection whose segment is not the last closes after sending it (a
disconnect mid-stream); the trades between two segments are never streamed (the gap), but REST
(klines, aggTrades) knows them. ``refuse_after_drop`` connection attempts after a drop get HTTP 503.
With ``drop_after_segment`` off, a connection stays open after its segment until the client closes
it (a service stopped while the venue carries on). REST serves the first ``history`` trades of the
script (all when None): a test advances the venue's "now" by raising it; klines are always built from
exactly that history. ``klines_status`` other than 200 makes klines fail (a backfill failure);
``klines_rate_limited`` answers the next klines requests 429 (Binance's ``-1003``); with
``klines_open`` set, the klines requests after that many hang until ``klines_gate`` is set.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import WSMsgType, web
from standin_binance_options import StandinOption, exchange_info, marks, tickers
from standin_binance_perps import StandinFunding, StandinPerp, funding_rates, premium_index
from standin_binance_perps import exchange_info as perp_exchange_info

MINUTE_MS = 60_000


@dataclass(frozen=True)
class ScriptTrade:
    id: int
    ts_ms: int
    price: Decimal
    qty: Decimal
    buyer_maker: bool


@dataclass
class StandinBinance:
    symbol_id: str  # e.g. BTCUSDT
    base: str
    quote: str
    trades: list[ScriptTrade]
    segments: list[tuple[int, int]]  # [start, end) indices of ``trades`` per accepted ws connection
    refuse_after_drop: int = 1
    stream_delay_s: float = 0.01
    connections: int = 0  # accepted websocket connections
    refused: int = 0
    requests: list[str] = field(default_factory=list)  # REST paths asked, in order
    book_update_id: int = 1000
    drop_after_segment: bool = True
    history: int | None = None  # trades of the script that REST knows (None: all)
    klines_status: int = 200
    klines_rate_limited: int = 0  # the next this many klines requests answer 429 (rate limit)
    kline_starts: list[int] = field(default_factory=list)  # startTime of each klines request
    agg_windows: list[tuple[int, int]] = field(default_factory=list)  # (startTime, endTime) of aggTrades
    klines_open: int | None = None  # klines requests after this many wait for ``klines_gate``
    klines_gate: asyncio.Event = field(default_factory=asyncio.Event)
    options: list[StandinOption] = field(default_factory=list)  # listed on eapi (options)
    perps: list[StandinPerp] = field(default_factory=list)  # listed on fapi (USDⓈ-M perpetuals)
    funding: list[StandinFunding] = field(default_factory=list)  # fapi funding-rate history
    funding_queries: list[dict[str, str]] = field(default_factory=list)  # each fundingRate query
    _to_refuse: dict[str, int] = field(default_factory=dict)
    _per_path: dict[str, int] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    port: int = 0

    # ----------------------------------------------------------------------------- REST
    def _history(self) -> list[ScriptTrade]:
        return self.trades if self.history is None else self.trades[: self.history]

    async def exchange_info(self, _: web.Request) -> web.Response:
        market = {
            "symbol": self.symbol_id,
            "status": "TRADING",
            "baseAsset": self.base,
            "baseAssetPrecision": 8,
            "quoteAsset": self.quote,
            "quotePrecision": 8,
            "quoteAssetPrecision": 8,
            "orderTypes": ["LIMIT", "MARKET"],
            "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False,
            "permissions": ["SPOT"],
            "permissionSets": [["SPOT"]],
            "filters": [
                {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000", "tickSize": "0.01"},
                {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000", "stepSize": "0.00001"},
                {"filterType": "NOTIONAL", "minNotional": "5", "maxNotional": "9000000"},
            ],
        }
        return web.json_response(
            {"timezone": "UTC", "serverTime": self.trades[-1].ts_ms, "rateLimits": [], "symbols": [market]}
        )

    def _agg(self, t: ScriptTrade) -> dict[str, Any]:
        return {
            "a": t.id,
            "p": str(t.price),
            "q": str(t.qty),
            "f": t.id,
            "l": t.id,
            "T": t.ts_ms,
            "m": t.buyer_maker,
            "M": True,
        }

    async def agg_trades(self, request: web.Request) -> web.Response:
        """``/api/v3/aggTrades`` paged as Binance does: ``startTime``..``endTime`` (inclusive, ms),
        ``fromId``, ``limit`` (oldest first); every request's window is recorded."""
        q = request.query
        self.agg_windows.append((int(q.get("startTime", 0)), int(q.get("endTime", 2**62))))
        start, end = int(q.get("startTime", 0)), int(q.get("endTime", 2**62))
        chosen = [t for t in self._history() if start <= t.ts_ms <= end and t.id >= int(q.get("fromId", 0))]
        return web.json_response([self._agg(t) for t in chosen[: int(q.get("limit", 500))]])

    async def recent_trades(self, request: web.Request) -> web.Response:
        chosen = self._history()[-int(request.query.get("limit", 500)) :]
        return web.json_response(
            [
                {
                    "id": t.id,
                    "price": str(t.price),
                    "qty": str(t.qty),
                    "quoteQty": str(t.price * t.qty),
                    "time": t.ts_ms,
                    "isBuyerMaker": t.buyer_maker,
                    "isBestMatch": True,
                }
                for t in chosen
            ]
        )

    def _levels(self, side: int) -> list[list[str]]:
        mid = self.trades[0].price + Decimal(self.book_update_id % 7)
        return [[str(mid + side * Decimal(i + 1) / 10), str(Decimal(i + 1))] for i in range(5)]

    async def depth(self, _: web.Request) -> web.Response:
        return web.json_response(
            {"lastUpdateId": self.book_update_id, "bids": self._levels(-1), "asks": self._levels(1)}
        )

    async def klines(self, request: web.Request) -> web.Response:
        q = request.query
        assert q.get("interval") == "1m", "the stand-in serves 1m klines only"
        if self.klines_status != 200:
            return web.json_response({"code": -1000, "msg": "unavailable"}, status=self.klines_status)
        if self.klines_rate_limited > 0:
            self.klines_rate_limited -= 1
            return web.json_response({"code": -1003, "msg": "Too many requests"}, status=429)
        start, end = int(q.get("startTime", 0)), int(q.get("endTime", 2**62))
        self.kline_starts.append(start)
        if self.klines_open is not None and len(self.kline_starts) > self.klines_open:
            await self.klines_gate.wait()
        buckets: dict[int, list[ScriptTrade]] = {}
        for t in self._history():
            buckets.setdefault(t.ts_ms - t.ts_ms % MINUTE_MS, []).append(t)
        rows = []
        for open_ms, group in sorted(buckets.items()):
            if start <= open_ms <= end:
                prices = [t.price for t in group]
                volume = sum((t.qty for t in group), Decimal(0))
                rows.append(
                    [open_ms, str(prices[0]), str(max(prices)), str(min(prices)), str(prices[-1]),
                     str(volume),
                     open_ms + MINUTE_MS - 1, "0", len(group), "0", "0", "0"]
                )  # fmt: skip
        return web.json_response(rows[: int(q.get("limit", 500))])

    async def option_info(self, _: web.Request) -> web.Response:
        return web.json_response(exchange_info(self.options, self.trades[-1].ts_ms))

    async def option_tickers(self, _: web.Request) -> web.Response:
        return web.json_response(tickers(self.options))

    async def option_marks(self, _: web.Request) -> web.Response:
        return web.json_response(marks(self.options))

    async def perp_info(self, _: web.Request) -> web.Response:
        return web.json_response(perp_exchange_info(self.perps, self.trades[-1].ts_ms))

    async def perp_funding(self, request: web.Request) -> web.Response:
        self.funding_queries.append(dict(request.query))
        return web.json_response(funding_rates(self.funding, dict(request.query)))

    async def perp_premium(self, request: web.Request) -> web.Response:
        return web.json_response(premium_index(self.perps, dict(request.query)))

    # ------------------------------------------------------------------------ websocket
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        path = request.path  # ccxt opens one connection per stream index (trades, books apart)
        if self._to_refuse.get(path, 0) > 0:
            self._to_refuse[path] -= 1
            self.refused += 1
            return web.Response(status=503, text="try later")
        index = self._per_path.get(path, 0)
        self._per_path[path] = index + 1
        self.connections += 1
        start, end = self.segments[min(index, len(self.segments) - 1)]
        last = index >= len(self.segments) - 1
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        streams: set[str] = set()
        subscribed = asyncio.Event()
        sender = asyncio.create_task(self._send(ws, path, streams, subscribed, start, end, last))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                payload = json.loads(message.data)
                if payload.get("method") == "SUBSCRIBE":
                    streams.update(payload["params"])
                    await ws.send_json({"result": None, "id": payload["id"]})
                    subscribed.set()
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
        return ws

    async def _send(
        self,
        ws: web.WebSocketResponse,
        ws_path: str,
        streams: set[str],
        subscribed: asyncio.Event,
        start: int,
        end: int,
        last: bool,
    ) -> None:
        await subscribed.wait()
        await asyncio.sleep(0.2)  # let every SUBSCRIBE of this connection arrive
        lower = self.symbol_id.lower()
        for t in self.trades[start:end]:
            if f"{lower}@trade" in streams:
                await ws.send_json(
                    {
                        "e": "trade",
                        "E": t.ts_ms,
                        "s": self.symbol_id,
                        "t": t.id,
                        "p": str(t.price),
                        "q": str(t.qty),
                        "T": t.ts_ms,
                        "m": t.buyer_maker,
                        "M": True,
                    }
                )
            if f"{lower}@aggTrade" in streams:
                await ws.send_json({"e": "aggTrade", "E": t.ts_ms, "s": self.symbol_id, **self._agg(t)})
            if any(s.startswith(f"{lower}@depth") for s in streams):
                self.book_update_id += 1
                u = self.book_update_id
                await ws.send_json(
                    {
                        "e": "depthUpdate",
                        "E": t.ts_ms,
                        "s": self.symbol_id,
                        "U": u,
                        "u": u,
                        "b": self._levels(-1)[:1],
                        "a": self._levels(1)[:1],
                    }
                )
            await asyncio.sleep(self.stream_delay_s)
        if not last and not self.drop_after_segment:
            return  # stays open, silent, until the client closes it
        if not last:
            self._to_refuse[ws_path] = self.refuse_after_drop
            await ws.close(code=1001, message=b"going away")

    # ---------------------------------------------------------------------------- server
    async def start(self) -> str:
        app = web.Application()
        for path, handler in (
            ("/api/v3/exchangeInfo", self.exchange_info),
            ("/api/v3/aggTrades", self.agg_trades),
            ("/api/v3/trades", self.recent_trades),
            ("/api/v3/depth", self.depth),
            ("/api/v3/klines", self.klines),
            ("/eapi/v1/exchangeInfo", self.option_info),
            ("/eapi/v1/ticker", self.option_tickers),
            ("/eapi/v1/mark", self.option_marks),
            ("/fapi/v1/exchangeInfo", self.perp_info),
            ("/fapi/v1/fundingRate", self.perp_funding),
            ("/fapi/v1/premiumIndex", self.perp_premium),
        ):
            app.router.add_get(path, self._logged(path, handler))
        app.router.add_get("/stream/{tail:.*}", self.websocket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"127.0.0.1:{self.port}"

    def _logged(self, path: str, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            self.requests.append(path)
            return await handler(request)

        return wrapped

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def urls(self) -> dict[str, Any]:
        """What to merge into ``exchange.urls``: REST and websocket endpoints of this stand-in."""
        host = f"127.0.0.1:{self.port}"
        return {
            "api": {
                "public": f"http://{host}/api/v3",
                "eapiPublic": f"http://{host}/eapi/v1",
                "fapiPublic": f"http://{host}/fapi/v1",
                "ws": {"spot": f"ws://{host}/stream/ws"},
            }
        }
