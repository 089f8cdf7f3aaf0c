"""Binance options (``/eapi``): the subset ccxt calls to trade European options.

Exchange info (``optionSymbols``), the options wallet (``marginAccount``), orders (LIMIT only, like
Binance: ``type`` MARKET is -1116; they rest as ``ACCEPTED`` until ``/_control/eapi_fill`` fills one
at its limit price), one order (by ``orderId`` or ``clientOrderId``), cancel, open orders and user
trades; the spot routes' ``hang_next_order`` control holds the answer to the next option order too.
``reduceOnly`` is checked against the option position (-2022 when it would open or grow one). The
options account is its own USDT wallet (premium paid or received, fee ``FEE_RATE`` of the premium)
under ``eapi`` in the book. Shapes as Binance documents them and ccxt's
``binance.parse_order``/``parse_trade`` read them (a sell's trade ``quantity`` is negative). The
public order book (``/eapi/v1/depth``) is what ``/_control/eapi_book`` set (empty otherwise); a
limit order that crosses it (a sell at or below the best bid, a buy at or above the best ask) fills
at once at that level, as a marketable limit does at Binance; an IOC or FOK one that does not is
cancelled at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web
from venue_book import Book, VenueReject, fmt, now_ms

Signed = Callable[[web.Request, frozenset[str] | None], Awaitable[dict[str, str]]]
FEE_RATE = Decimal("0.0002")
# symbol -> (underlying, strike, CALL|PUT, expiry ms, tick size, step size)
OPTIONS: dict[str, tuple[str, str, str, int, str, str]] = {
    "BTC-270129-65000-C": ("BTCUSDT", "65000", "CALL", 1801209600000, "5", "0.01"),
}
ORDER_PARAMS = frozenset({
    "symbol", "side", "type", "quantity", "price", "timeInForce", "reduceOnly", "postOnly",
    "newOrderRespType", "clientOrderId", "newClientOrderId", "isMmp",
})  # fmt: skip
LOOKUP_PARAMS = frozenset({"symbol", "orderId", "clientOrderId"})


def _state(book: Book) -> dict[str, Any]:
    return book.data.setdefault(
        "eapi", {"wallet": "10000", "positions": {}, "orders": {}, "trades": [], "books": {}}
    )


def _symbol_info(symbol: str) -> dict[str, Any]:
    underlying, strike, side, expiry, tick, step = OPTIONS[symbol]
    return {
        "contractId": 2, "expiryDate": expiry, "id": 17, "symbol": symbol, "side": side,
        "strikePrice": f"{strike}.00000000", "underlying": underlying, "unit": 1,
        "makerFeeRate": fmt(FEE_RATE), "takerFeeRate": fmt(FEE_RATE), "minQty": step, "maxQty": "500",
        "initialMargin": "0.15000000", "maintenanceMargin": "0.07500000",
        "minInitialMargin": "0.10000000", "minMaintenanceMargin": "0.05000000",
        "priceScale": 0, "quantityScale": 2, "quoteAsset": "USDT",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": tick, "maxPrice": "100000", "tickSize": tick},
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "500", "stepSize": step},
        ],
    }  # fmt: skip


def _order_view(order: dict[str, Any]) -> dict[str, Any]:
    return {key: order[key] for key in (
        "orderId", "symbol", "price", "quantity", "executedQty", "fee", "side", "type", "timeInForce",
        "reduceOnly", "postOnly", "createTime", "updateTime", "status", "avgPrice", "source",
        "clientOrderId", "priceScale", "quantityScale", "optionSide", "quoteAsset", "mmp",
    )}  # fmt: skip


class Options:
    def __init__(self, book: Book, signed: Signed) -> None:
        self.book, self.signed = book, signed

    async def exchange_info(self, request: web.Request) -> web.Response:
        return web.json_response({
            "timezone": "UTC", "serverTime": now_ms(),
            "optionContracts": [{"id": 1, "baseAsset": "BTC", "quoteAsset": "USDT", "underlying": "BTCUSDT",
                                 "settleAsset": "USDT"}],
            "optionAssets": [{"id": 1, "name": "USDT"}],
            "optionSymbols": [_symbol_info(s) for s in OPTIONS],
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                            "limit": 400}],
        })  # fmt: skip

    def _symbol(self, params: dict[str, str]) -> str:
        if params.get("symbol") not in OPTIONS:
            raise VenueReject(400, -1121, "Invalid symbol.")
        return params["symbol"]

    async def create_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, ORDER_PARAMS)
        state, symbol = _state(self.book), self._symbol(params)
        side, kind = params.get("side"), params.get("type")
        if side not in ("BUY", "SELL") or kind != "LIMIT":
            raise VenueReject(400, -1116, "Invalid orderType.")
        _, _, option_side, _, tick, step = OPTIONS[symbol]
        qty, price = Decimal(params.get("quantity", "0")), Decimal(params.get("price", "0"))
        if qty <= 0 or qty % Decimal(step) != 0 or price <= 0 or price % Decimal(tick) != 0:
            raise VenueReject(400, -1111, "Precision is over the maximum defined for this asset.")
        position = Decimal(state["positions"].get(symbol, "0"))
        reduce_only = params.get("reduceOnly", "").lower() == "true"
        signed_qty = qty if side == "BUY" else -qty
        if reduce_only and (position == 0 or (position > 0) == (signed_qty > 0) or qty > abs(position)):
            raise VenueReject(400, -2022, "ReduceOnly Order is rejected.")
        client_id = params.get("clientOrderId") or params.get("newClientOrderId") or ""
        if client_id and any(o["clientOrderId"] == client_id for o in state["orders"].values()):
            raise VenueReject(400, -4015, "Client order id is not valid.")
        order_id = self.book.data["next_order_id"]
        self.book.data["next_order_id"] += 1
        stamp = now_ms()
        order = {
            "orderId": order_id, "symbol": symbol, "price": fmt(price), "quantity": fmt(qty),
            "executedQty": "0.00000000", "fee": "0", "side": side, "type": "LIMIT",
            "timeInForce": params.get("timeInForce", "GTC"), "reduceOnly": reduce_only,
            "postOnly": params.get("postOnly", "").lower() == "true", "createTime": stamp,
            "updateTime": stamp, "status": "ACCEPTED", "avgPrice": "0", "source": "API",
            "clientOrderId": client_id, "priceScale": 0, "quantityScale": 2, "optionSide": option_side,
            "quoteAsset": "USDT", "mmp": False,
        }  # fmt: skip
        state["orders"][str(order_id)] = order
        level = self._crossed(state, symbol, side, price)
        if level is not None:
            self._fill(state, order, level)
        elif order["timeInForce"] in ("IOC", "FOK"):  # nothing to meet at once: gone
            order.update(status="CANCELLED")
        hang = self.book.data["controls"].pop("hang_next_order", None)
        self.book.save()
        if hang is not None:  # accepted and stored; the answer comes after the client gave up
            await asyncio.sleep(float(hang))
        return web.json_response(_order_view(order))

    def _find(self, params: dict[str, str]) -> dict[str, Any]:
        for order in _state(self.book)["orders"].values():
            if order["symbol"] != params.get("symbol"):
                continue
            if str(order["orderId"]) == params.get("orderId") or (
                params.get("clientOrderId") and order["clientOrderId"] == params.get("clientOrderId")
            ):
                return order
        raise VenueReject(400, -2013, "Order does not exist.")

    async def get_order(self, request: web.Request) -> web.Response:
        return web.json_response(_order_view(self._find(await self.signed(request, LOOKUP_PARAMS))))

    async def cancel_order(self, request: web.Request) -> web.Response:
        order = self._find(await self.signed(request, LOOKUP_PARAMS))
        if order["status"] not in ("ACCEPTED", "PARTIALLY_FILLED"):
            raise VenueReject(400, -2011, "Unknown order sent.")
        order.update(status="CANCELLED", updateTime=now_ms())
        self.book.save()
        return web.json_response(_order_view(order))

    async def open_orders(self, request: web.Request) -> web.Response:
        allowed = frozenset({"symbol", "orderId", "startTime", "endTime", "limit"})
        params = await self.signed(request, allowed)
        return web.json_response([
            _order_view(o) for o in _state(self.book)["orders"].values()
            if o["status"] in ("ACCEPTED", "PARTIALLY_FILLED") and params.get("symbol") in (None, o["symbol"])
        ])  # fmt: skip

    async def user_trades(self, request: web.Request) -> web.Response:
        allowed = frozenset({"symbol", "fromId", "startTime", "endTime", "limit"})
        params = await self.signed(request, allowed)
        start = int(params.get("startTime", "0"))
        trades = [
            t for t in _state(self.book)["trades"]
            if params.get("symbol") in (None, t["symbol"]) and t["time"] >= start
        ]  # fmt: skip
        return web.json_response(trades[: min(int(params.get("limit", "100")), 1000)])

    @staticmethod
    def _crossed(state: dict[str, Any], symbol: str, side: str, price: Decimal) -> Decimal | None:
        """The book level a new limit order meets at once (``None``: it rests)."""
        book = state.setdefault("books", {}).get(symbol, {})
        if side == "SELL" and book.get("bids") and price <= Decimal(book["bids"][0][0]):
            return Decimal(book["bids"][0][0])
        if side == "BUY" and book.get("asks") and price >= Decimal(book["asks"][0][0]):
            return Decimal(book["asks"][0][0])
        return None

    async def depth(self, request: web.Request) -> web.Response:
        symbol = self._symbol(dict(request.query))
        book = _state(self.book).setdefault("books", {}).get(symbol, {})
        return web.json_response(
            {"T": now_ms(), "u": 1, "bids": book.get("bids", []), "asks": book.get("asks", [])}
        )

    async def margin_account(self, request: web.Request) -> web.Response:
        """The options wallet (``/eapi/v1/marginAccount``, ccxt's ``eapiPrivateGetMarginAccount``):
        its USDT, all of it available (long options hold no margin)."""
        await self.signed(request, frozenset())
        wallet = fmt(Decimal(_state(self.book)["wallet"]))
        usdt = {
            "asset": "USDT", "marginBalance": wallet, "equity": wallet, "available": wallet,
            "initialMargin": "0", "maintMargin": "0", "unrealizedPNL": "0", "lpProfit": "0",
        }  # fmt: skip
        return web.json_response({"asset": [usdt], "greek": [], "time": now_ms()})

    async def control_wallet(self, request: web.Request) -> web.Response:
        """Test hook: the options wallet's USDT (``{"amount": "7000"}``)."""
        _state(self.book)["wallet"] = str((await request.json())["amount"])
        self.book.save()
        return web.json_response({"wallet": _state(self.book)["wallet"]})

    async def control_book(self, request: web.Request) -> web.Response:
        """Test hook: the option's order book, ``{symbol, bids: [[price, qty]], asks: [...]}``."""
        body = await request.json()
        book = {"bids": body.get("bids", []), "asks": body.get("asks", [])}
        _state(self.book).setdefault("books", {})[self._symbol(body)] = book
        self.book.save()
        return web.json_response(book)

    def _fill(
        self, state: dict[str, Any], order: dict[str, Any], at: Decimal | None = None
    ) -> dict[str, Any]:
        """The whole order at ``at`` (default its limit price): premium and fee on the options wallet."""
        qty, price = Decimal(order["quantity"]), Decimal(order["price"]) if at is None else at
        buy = order["side"] == "BUY"
        premium, fee = qty * price, qty * price * FEE_RATE
        state["wallet"] = fmt(Decimal(state["wallet"]) + (-premium if buy else premium) - fee)
        position = Decimal(state["positions"].get(order["symbol"], "0")) + (qty if buy else -qty)
        state["positions"][order["symbol"]] = fmt(position)
        trade_id = self.book.data["next_trade_id"]
        self.book.data["next_trade_id"] += 1
        stamp = max([now_ms()] + [t["time"] + 1 for t in state["trades"][-1:]])
        trade = {
            "id": 1125899906842624000 + trade_id, "tradeId": trade_id, "orderId": order["orderId"],
            "symbol": order["symbol"], "price": fmt(price), "quantity": fmt(qty if buy else -qty),
            "fee": fmt(fee), "realizedProfit": "0.00000000", "side": order["side"], "type": "LIMIT",
            "volatility": "0.50000000", "liquidity": "MAKER", "time": stamp, "priceScale": 0,
            "quantityScale": 2, "optionSide": order["optionSide"], "quoteAsset": "USDT",
        }  # fmt: skip
        state["trades"].append(trade)
        order.update(
            status="FILLED", executedQty=fmt(qty), avgPrice=fmt(price), fee=fmt(fee), updateTime=stamp
        )
        return trade

    async def control_fill(self, request: web.Request) -> web.Response:
        """Test hook: fill a resting option order in full at its limit price (``clientOrderId``)."""
        body = await request.json()
        state = _state(self.book)
        order = self._find({"symbol": body["symbol"], "clientOrderId": body["clientOrderId"]})
        if order["status"] != "ACCEPTED":
            raise VenueReject(400, -2011, "Unknown order sent.")
        trade = self._fill(state, order)
        self.book.save()
        return web.json_response(trade)

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/eapi/v1/exchangeInfo", self.exchange_info)
        app.router.add_post("/eapi/v1/order", self.create_order)
        app.router.add_get("/eapi/v1/order", self.get_order)
        app.router.add_delete("/eapi/v1/order", self.cancel_order)
        app.router.add_get("/eapi/v1/openOrders", self.open_orders)
        app.router.add_get("/eapi/v1/userTrades", self.user_trades)
        app.router.add_get("/eapi/v1/depth", self.depth)
        app.router.add_get("/eapi/v1/marginAccount", self.margin_account)
        app.router.add_post("/_control/eapi_wallet", self.control_wallet)
        app.router.add_post("/_control/eapi_fill", self.control_fill)
        app.router.add_post("/_control/eapi_book", self.control_book)
