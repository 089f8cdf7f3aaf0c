"""Binance USDⓈ-M futures (``/fapi``): the subset ccxt calls to trade linear perpetuals.

Exchange info (``contractType`` PERPETUAL), the mark price (``premiumIndex``: the venue's price,
``/_control/set_price``), the wallet (``/fapi/v3/account``), leverage, margin type, position mode,
orders (market fills at once at the venue's price; limit orders rest; ``reduceOnly`` checked against
the one-way position like Binance: -2022; the spot routes' ``hang_next_order`` holds the answer to the
next futures order too), open orders, one order, cancel, user trades. State lives
in the book under ``fapi`` (positions, leverage and margin type per symbol, how often each setting
was changed: tests check leverage is set once). Shapes as Binance documents and ccxt parses them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web
from fapi_stream import FuturesStreams
from venue_book import MARKETS, Book, VenueReject, fmt, now_ms

Signed = Callable[[web.Request, frozenset[str] | None], Awaitable[dict[str, str]]]
COMMISSION = Decimal("0.0004")  # taker, in USDT


def _state(book: Book) -> dict[str, Any]:
    return book.data.setdefault("fapi", {
        "wallet": "10000", "dual": False, "leverage": {}, "margin_type": {}, "positions": {},
        "orders": {}, "trades": [], "changes": {"leverage": 0, "margin_type": 0, "position_mode": 0},
    })  # fmt: skip


def _position_key(symbol: str, position_side: str) -> str:
    """One-way mode: one position per symbol; hedge (dual-side) mode: ``BTCUSDT:LONG`` / ``:SHORT``."""
    return symbol if position_side == "BOTH" else f"{symbol}:{position_side}"


def _market(symbol: str) -> dict[str, Any]:
    base, quote, tick, _step, min_notional = MARKETS[symbol]
    return {
        "symbol": symbol, "pair": symbol, "contractType": "PERPETUAL", "deliveryDate": 4133404800000,
        "onboardDate": 1569398400000, "status": "TRADING", "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000", "baseAsset": base, "quoteAsset": quote, "marginAsset": quote,
        "pricePrecision": 2, "quantityPrecision": 3, "baseAssetPrecision": 8, "quotePrecision": 8,
        "underlyingType": "COIN", "underlyingSubType": ["PoW"], "settlePlan": 0, "triggerProtect": "0.0500",
        "liquidationFee": "0.012500", "marketTakeBound": "0.05", "maxMoveOrderLimit": 10000,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.10", "maxPrice": "4529764", "tickSize": tick},
            {"filterType": "LOT_SIZE", "minQty": "0.001", "maxQty": "1000", "stepSize": "0.001"},
            {"filterType": "MARKET_LOT_SIZE", "minQty": "0.001", "maxQty": "120", "stepSize": "0.001"},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MIN_NOTIONAL", "notional": min_notional},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.0500", "multiplierDown": "0.9500",
             "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT", "MARKET", "STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET",
                       "TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
    }  # fmt: skip


def _order_view(order: dict[str, Any]) -> dict[str, Any]:
    return {key: order[key] for key in (
        "orderId", "symbol", "status", "clientOrderId", "price", "avgPrice", "origQty", "executedQty",
        "cumQuote", "timeInForce", "type", "reduceOnly", "closePosition", "side", "positionSide",
        "stopPrice", "workingType", "priceProtect", "origType", "priceMatch", "selfTradePreventionMode",
        "goodTillDate", "time", "updateTime",
    )}  # fmt: skip


class Futures:
    def __init__(self, book: Book, signed: Signed) -> None:
        self.book, self.signed = book, signed
        self.streams = FuturesStreams(book)
        self.user_trades_calls = 0  # polls, for tests

    async def exchange_info(self, request: web.Request) -> web.Response:
        return web.json_response({
            "timezone": "UTC", "serverTime": now_ms(), "futuresType": "U_MARGINED",
            "rateLimits": [{"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1,
                            "limit": 2400}],
            "exchangeFilters": [], "assets": [], "symbols": [_market(s) for s in MARKETS],
        })  # fmt: skip

    async def leverage(self, request: web.Request) -> web.Response:
        params = await self.signed(request, frozenset({"symbol", "leverage"}))
        state, symbol = _state(self.book), self.symbol(params)
        leverage = int(params.get("leverage", "0"))
        if not 1 <= leverage <= 125:
            raise VenueReject(400, -4028, f"Leverage {leverage} is not valid")
        state["leverage"][symbol] = leverage
        state["changes"]["leverage"] += 1
        self.book.save()
        return web.json_response({"leverage": leverage, "maxNotionalValue": "1000000", "symbol": symbol})

    async def margin_type(self, request: web.Request) -> web.Response:
        params = await self.signed(request, frozenset({"symbol", "marginType"}))
        state, symbol = _state(self.book), self.symbol(params)
        wanted = params.get("marginType")
        if wanted not in ("ISOLATED", "CROSSED"):
            raise VenueReject(400, -1116, "Invalid marginType.")
        if state["margin_type"].get(symbol, "CROSSED") == wanted:
            raise VenueReject(400, -4046, "No need to change margin type.")
        state["margin_type"][symbol] = wanted
        state["changes"]["margin_type"] += 1
        self.book.save()
        return web.json_response({"code": 200, "msg": "success"})

    async def get_position_mode(self, request: web.Request) -> web.Response:
        await self.signed(request, frozenset())
        return web.json_response({"dualSidePosition": _state(self.book)["dual"]})

    async def set_position_mode(self, request: web.Request) -> web.Response:
        params = await self.signed(request, frozenset({"dualSidePosition"}))
        state, dual = _state(self.book), params.get("dualSidePosition") == "true"
        if state["dual"] == dual:
            raise VenueReject(400, -4059, "No need to change position side.")
        state["dual"] = dual
        state["changes"]["position_mode"] += 1
        self.book.save()
        return web.json_response({"code": 200, "msg": "success"})

    def state(self) -> dict[str, Any]:
        return _state(self.book)

    def symbol(self, params: dict[str, str]) -> str:
        if params.get("symbol") not in MARKETS:
            raise VenueReject(400, -1121, "Invalid symbol.")
        return params["symbol"]

    async def create_order(self, request: web.Request) -> web.Response:
        allowed = frozenset({
            "symbol", "side", "type", "quantity", "price", "timeInForce", "reduceOnly", "newClientOrderId",
            "positionSide", "stopPrice", "newOrderRespType",
        })  # fmt: skip
        params = await self.signed(request, allowed)
        state, symbol = _state(self.book), self.symbol(params)
        side, kind = params.get("side"), params.get("type")
        if side not in ("BUY", "SELL") or kind not in ("LIMIT", "MARKET"):
            raise VenueReject(400, -1116, "Invalid orderType.")
        qty = Decimal(params.get("quantity", "0"))
        if qty <= 0 or qty % Decimal("0.001") != 0:
            raise VenueReject(400, -1111, "Precision is over the maximum defined for this asset.")
        position_side = params.get("positionSide", "BOTH")
        if position_side not in (("LONG", "SHORT") if state["dual"] else ("BOTH",)):
            raise VenueReject(400, -4061, "Order's position side does not match user's setting.")
        if state["dual"] and "reduceOnly" in params:  # hedge mode: the side says what closes
            raise VenueReject(400, -1106, "Parameter 'reduceonly' sent when not required.")
        position = Decimal(state["positions"].get(_position_key(symbol, position_side), {}).get("amt", "0"))
        reduce_only = params.get("reduceOnly") == "true"
        signed_qty = qty if side == "BUY" else -qty
        if reduce_only and (position == 0 or (position > 0) == (signed_qty > 0) or qty > abs(position)):
            raise VenueReject(400, -2022, "ReduceOnly Order is rejected.")
        order = self.new_order(
            symbol, side, kind, qty, params.get("price", "0"), client_id=params.get("newClientOrderId"),
            reduce_only=reduce_only, position_side=position_side,
            time_in_force=params.get("timeInForce", "GTC"),
        )  # fmt: skip
        if kind == "MARKET":
            self.fill(state, order, Decimal(self.book.data["prices"][symbol]))
        hang = self.book.data["controls"].pop("hang_next_order", None)
        self.book.save()
        if kind == "MARKET":
            await self.streams.publish_trade(order, state["trades"][-1])
        if hang is not None:  # taken (and filled) already; the answer comes after the client gave up
            await asyncio.sleep(float(hang))
        return web.json_response(_order_view(order))

    def new_order(
        self, symbol: str, side: str, kind: str, qty: Decimal, price: str, *, client_id: str | None,
        reduce_only: bool, position_side: str, time_in_force: str = "GTC",
    ) -> dict[str, Any]:  # fmt: skip
        """A new order in the book (``NEW``; the caller fills a market one): from ``POST
        /fapi/v1/order``, or an algo order's triggered one (``fapi_algo.py``)."""
        state = _state(self.book)
        client_id = client_id or f"standin-f-{self.book.data['next_order_id']}"
        order_id = self.book.data["next_order_id"]
        self.book.data["next_order_id"] += 1
        stamp = now_ms()
        order = {
            "orderId": order_id, "symbol": symbol, "status": "NEW", "clientOrderId": client_id,
            "price": price if kind == "LIMIT" else "0", "avgPrice": "0.00",
            "origQty": fmt(qty), "executedQty": "0", "cumQty": "0", "cumQuote": "0",
            "timeInForce": time_in_force, "type": kind, "reduceOnly": reduce_only,
            "closePosition": False, "side": side, "positionSide": position_side, "stopPrice": "0",
            "workingType": "CONTRACT_PRICE", "priceProtect": False, "origType": kind, "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER", "goodTillDate": 0, "time": stamp, "updateTime": stamp,
        }  # fmt: skip
        state["orders"][str(order_id)] = order
        return order

    def fill(self, state: dict[str, Any], order: dict[str, Any], price: Decimal) -> None:
        """The whole order at ``price``: one-way position, realised PnL and commission on the wallet."""
        qty = Decimal(order["origQty"])
        signed_qty = qty if order["side"] == "BUY" else -qty
        key = _position_key(order["symbol"], order["positionSide"])
        position = state["positions"].setdefault(key, {"amt": "0", "entry": "0"})
        amt, entry = Decimal(position["amt"]), Decimal(position["entry"])
        closed = min(abs(amt), qty) if amt and (amt > 0) != (signed_qty > 0) else Decimal(0)
        pnl = closed * (price - entry) * (1 if amt > 0 else -1)
        new_amt = amt + signed_qty
        if new_amt == 0:
            new_entry = Decimal(0)
        elif closed == 0:
            new_entry = (abs(amt) * entry + qty * price) / abs(new_amt)
        else:
            new_entry = entry if abs(new_amt) <= abs(amt) and (new_amt > 0) == (amt > 0) else price
        position.update(amt=fmt(new_amt), entry=fmt(new_entry))
        commission = qty * price * COMMISSION
        state["wallet"] = fmt(Decimal(state["wallet"]) + pnl - commission)
        trade_id = self.book.data["next_trade_id"]
        self.book.data["next_trade_id"] += 1
        stamp = max([now_ms()] + [t["time"] + 1 for t in state["trades"][-1:]])
        state["trades"].append({
            "buyer": order["side"] == "BUY", "commission": fmt(commission), "commissionAsset": "USDT",
            "id": trade_id, "maker": False, "orderId": order["orderId"], "price": fmt(price),
            "qty": fmt(qty), "quoteQty": fmt(qty * price), "realizedPnl": fmt(pnl), "side": order["side"],
            "positionSide": order["positionSide"], "symbol": order["symbol"], "time": stamp,
        })  # fmt: skip
        order.update(status="FILLED", executedQty=fmt(qty), cumQty=fmt(qty), cumQuote=fmt(qty * price),
                     avgPrice=fmt(price), updateTime=stamp)  # fmt: skip

    def _find(self, params: dict[str, str]) -> dict[str, Any]:
        orders = _state(self.book)["orders"].values()
        for order in orders:
            if order["symbol"] == params.get("symbol") and (
                str(order["orderId"]) == params.get("orderId")
                or order["clientOrderId"] == params.get("origClientOrderId")
            ):
                return order
        raise VenueReject(400, -2013, "Order does not exist.")

    async def get_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, frozenset({"symbol", "orderId", "origClientOrderId"}))
        return web.json_response(_order_view(self._find(params)))

    async def cancel_order(self, request: web.Request) -> web.Response:
        params = await self.signed(request, frozenset({"symbol", "orderId", "origClientOrderId"}))
        order = self._find(params)
        if order["status"] not in ("NEW", "PARTIALLY_FILLED"):
            raise VenueReject(400, -2011, "Unknown order sent.")
        order.update(status="CANCELED", updateTime=now_ms())
        self.book.save()
        return web.json_response(_order_view(order))

    async def open_orders(self, request: web.Request) -> web.Response:
        params = await self.signed(request, frozenset({"symbol"}))
        return web.json_response([
            _order_view(o) for o in _state(self.book)["orders"].values()
            if o["status"] in ("NEW", "PARTIALLY_FILLED") and params.get("symbol") in (None, o["symbol"])
        ])  # fmt: skip

    async def user_trades(self, request: web.Request) -> web.Response:
        allowed = frozenset({"symbol", "orderId", "startTime", "endTime", "fromId", "limit"})
        params = await self.signed(request, allowed)
        self.user_trades_calls += 1
        symbol, start = self.symbol(params), int(params.get("startTime", "0"))
        trades = [t for t in _state(self.book)["trades"] if t["symbol"] == symbol and t["time"] >= start]
        return web.json_response(trades[: min(int(params.get("limit", "500")), 1000)])

    async def premium_index(self, request: web.Request) -> web.Response:
        """The mark price (public): the venue's price of the symbol (``/_control/set_price``)."""
        symbol = self.symbol(dict(request.query))
        price = fmt(Decimal(self.book.data["prices"][symbol]))
        return web.json_response({
            "symbol": symbol, "markPrice": price, "indexPrice": price, "estimatedSettlePrice": price,
            "lastFundingRate": "0.00010000", "interestRate": "0.00010000", "nextFundingTime": 0,
            "time": now_ms(),
        })  # fmt: skip

    async def account(self, request: web.Request) -> web.Response:
        """The futures wallet (``/fapi/v3/account``, what ccxt's ``fetchBalance`` with ``type: swap``
        reads): its USDT, the isolated margin of the open positions as ``initialMargin``."""
        await self.signed(request, frozenset())
        state = _state(self.book)
        wallet = Decimal(state["wallet"])
        margin = sum(
            (abs(Decimal(p["amt"])) * Decimal(p["entry"]) / state["leverage"].get(s, 1)
             for s, p in state["positions"].items()),
            Decimal(0),
        )  # fmt: skip
        usdt = {
            "asset": "USDT", "walletBalance": fmt(wallet), "unrealizedProfit": "0",
            "marginBalance": fmt(wallet), "maintMargin": "0", "initialMargin": fmt(margin),
            "positionInitialMargin": fmt(margin), "openOrderInitialMargin": "0",
            "crossWalletBalance": fmt(wallet), "crossUnPnl": "0", "availableBalance": fmt(wallet - margin),
            "maxWithdrawAmount": fmt(wallet - margin), "updateTime": now_ms(),
        }  # fmt: skip
        return web.json_response({
            "totalInitialMargin": fmt(margin), "totalWalletBalance": fmt(wallet),
            "totalMarginBalance": fmt(wallet), "availableBalance": fmt(wallet - margin),
            "assets": [usdt], "positions": [],
        })  # fmt: skip

    async def control_wallet(self, request: web.Request) -> web.Response:
        """Test hook: the futures wallet's USDT (``{"amount": "25000"}``)."""
        _state(self.book)["wallet"] = str((await request.json())["amount"])
        self.book.save()
        return web.json_response({"wallet": _state(self.book)["wallet"]})

    async def control_fill(self, request: web.Request) -> web.Response:
        """Test hook: fill a resting futures order in full at its limit price (``clientOrderId``
        or ``orderId``: an algo order's triggered one has an id of its own)."""
        body = await request.json()
        state = _state(self.book)
        order = self._find({"symbol": body["symbol"], "origClientOrderId": body.get("clientOrderId", ""),
                            "orderId": str(body.get("orderId", ""))})  # fmt: skip
        if order["status"] != "NEW":
            raise VenueReject(400, -2011, "Unknown order sent.")
        self.fill(state, order, Decimal(order["price"]))
        self.book.save()
        await self.streams.publish_trade(order, state["trades"][-1])
        return web.json_response(state["trades"][-1])

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/fapi/v1/exchangeInfo", self.exchange_info)
        app.router.add_post("/fapi/v1/leverage", self.leverage)
        app.router.add_post("/fapi/v1/marginType", self.margin_type)
        app.router.add_get("/fapi/v1/positionSide/dual", self.get_position_mode)
        app.router.add_post("/fapi/v1/positionSide/dual", self.set_position_mode)
        app.router.add_get("/fapi/v1/premiumIndex", self.premium_index)
        app.router.add_post("/fapi/v1/order", self.create_order)
        app.router.add_get("/fapi/v1/order", self.get_order)
        app.router.add_delete("/fapi/v1/order", self.cancel_order)
        app.router.add_get("/fapi/v1/openOrders", self.open_orders)
        app.router.add_get("/fapi/v1/userTrades", self.user_trades)
        app.router.add_get("/fapi/v3/account", self.account)
        app.router.add_post("/_control/fapi_fill", self.control_fill)
        app.router.add_post("/_control/fapi_wallet", self.control_wallet)
        self.streams.add_routes(app)
