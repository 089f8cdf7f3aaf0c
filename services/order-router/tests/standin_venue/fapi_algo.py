"""Binance USDⓈ-M algo orders (``/fapi/v1/algoOrder``): where ccxt sends every conditional order of
a linear perpetual (a ``triggerPrice``, ``takeProfitPrice`` or ``trailingPercent``).

``POST`` takes one (``algoType`` CONDITIONAL; ``clientAlgoId``; ``STOP_MARKET``, ``STOP``,
``TAKE_PROFIT_MARKET``, ``TAKE_PROFIT`` with ``triggerPrice``; ``TRAILING_STOP_MARKET`` with
``callbackRate`` 0.1..10 in steps of 0.1), ``GET`` finds one by ``algoId`` or ``clientAlgoId`` (-2013
when there is none), ``DELETE`` cancels one not triggered yet, ``GET /fapi/v1/openAlgoOrders`` lists
those waiting. When the venue's price crosses (``/_control/set_price`` calls ``on_price``) the algo
order triggers: it becomes a normal futures order with an ``orderId`` (and client id) of its own,
named by the algo order's ``actualOrderId``; a market one fills at once, a limit one rests (its
fill: ``/_control/fapi_fill`` by ``orderId``). The algo order is then ``TRIGGERED``, and
``FINISHED`` once that order ended. The spot routes' ``hang_next_order`` holds the answer to the
next algo order too (taken first). State in the book under ``fapi.algo``, saved before answering.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

from aiohttp import web
from fapi_routes import Futures
from venue_book import VenueReject, fmt, now_ms

KINDS = ("STOP_MARKET", "STOP", "TAKE_PROFIT_MARKET", "TAKE_PROFIT", "TRAILING_STOP_MARKET")
CREATE_PARAMS = frozenset({
    "algoType", "symbol", "side", "positionSide", "type", "timeInForce", "quantity", "price", "triggerPrice",
    "workingType", "priceMatch", "closePosition", "priceProtect", "reduceOnly", "activatePrice",
    "callbackRate", "clientAlgoId", "selfTradePreventionMode", "goodTillDate", "newOrderRespType",
})  # fmt: skip
LOOKUP_PARAMS = frozenset({"symbol", "algoId", "clientAlgoId"})
VIEW_KEYS = (
    "algoId", "clientAlgoId", "algoType", "orderType", "symbol", "side", "positionSide", "timeInForce",
    "quantity", "algoStatus", "actualOrderId", "actualPrice", "triggerPrice", "price", "icebergQuantity",
    "selfTradePreventionMode", "workingType", "priceMatch", "closePosition", "priceProtect", "reduceOnly",
    "activatePrice", "callbackRate", "createTime", "updateTime", "triggerTime", "goodTillDate",
)  # fmt: skip


class AlgoOrders:
    def __init__(self, futures: Futures) -> None:
        self.futures = futures
        self.book = futures.book

    def _algos(self) -> dict[str, dict[str, Any]]:
        state = self.futures.state()
        state.setdefault("next_algo_id", 7_000_000)
        return state.setdefault("algo", {})  # type: ignore[no-any-return]

    def _view(self, algo: dict[str, Any]) -> dict[str, Any]:
        actual = self.futures.state()["orders"].get(algo["actualOrderId"])
        if (
            algo["algoStatus"] == "TRIGGERED"
            and actual is not None
            and actual["status"] not in ("NEW", "PARTIALLY_FILLED")
        ):
            algo["algoStatus"] = "FINISHED"
        return {key: algo[key] for key in VIEW_KEYS}

    async def create(self, request: web.Request) -> web.Response:
        params = await self.futures.signed(request, CREATE_PARAMS)
        symbol = self.futures.symbol(params)
        kind, side = params.get("type"), params.get("side")
        if params.get("algoType") != "CONDITIONAL" or kind not in KINDS or side not in ("BUY", "SELL"):
            raise VenueReject(400, -1116, "Invalid orderType.")
        qty = Decimal(params.get("quantity", "0"))
        if qty <= 0 or qty % Decimal("0.001") != 0:
            raise VenueReject(400, -1111, "Precision is over the maximum defined for this asset.")
        rate = Decimal(params.get("callbackRate", "0"))
        if kind == "TRAILING_STOP_MARKET" and (not Decimal("0.1") <= rate <= 10 or rate % Decimal("0.1")):
            raise VenueReject(400, -2007, "Invalid callBack rate.")
        if kind != "TRAILING_STOP_MARKET" and Decimal(params.get("triggerPrice", "0")) <= 0:
            raise VenueReject(400, -1102, "Mandatory parameter 'triggerPrice' was not sent.")
        if kind in ("STOP", "TAKE_PROFIT") and Decimal(params.get("price", "0")) <= 0:
            raise VenueReject(400, -1102, "Mandatory parameter 'price' was not sent.")
        position_side = params.get("positionSide", "BOTH")
        if position_side not in (("LONG", "SHORT") if self.futures.state()["dual"] else ("BOTH",)):
            raise VenueReject(400, -4061, "Order's position side does not match user's setting.")
        algos, state = self._algos(), self.futures.state()
        client_id = params.get("clientAlgoId") or f"standin-a-{state['next_algo_id']}"
        if any(a["clientAlgoId"] == client_id for a in algos.values()):
            raise VenueReject(400, -20132, "The client algo id is duplicated.")
        algo_id = state["next_algo_id"]
        state["next_algo_id"] += 1
        price = Decimal(self.book.data["prices"][symbol])
        stamp = now_ms()
        algos[str(algo_id)] = {
            "algoId": algo_id, "clientAlgoId": client_id, "algoType": "CONDITIONAL", "orderType": kind,
            "symbol": symbol, "side": side, "positionSide": position_side,
            "timeInForce": params.get("timeInForce", "GTC"), "quantity": fmt(qty), "algoStatus": "NEW",
            "actualOrderId": "", "actualPrice": "0", "triggerPrice": params.get("triggerPrice", "0"),
            "price": params.get("price", "0"), "icebergQuantity": None,
            "selfTradePreventionMode": "EXPIRE_MAKER", "workingType": "CONTRACT_PRICE", "priceMatch": "NONE",
            "closePosition": False, "priceProtect": False, "reduceOnly": params.get("reduceOnly") == "true",
            "activatePrice": None, "callbackRate": params.get("callbackRate"), "createTime": stamp,
            "updateTime": stamp, "triggerTime": 0, "goodTillDate": 0, "extreme": fmt(price),
        }  # fmt: skip
        hang = self.book.data["controls"].pop("hang_next_order", None)
        self.book.save()
        if hang is not None:  # taken already; the answer comes after the client gave up
            await asyncio.sleep(float(hang))
        return web.json_response(self._view(algos[str(algo_id)]))

    def _lookup(self, params: dict[str, str]) -> dict[str, Any]:
        for algo in self._algos().values():
            if str(algo["algoId"]) == params.get("algoId") or algo["clientAlgoId"] == params.get(
                "clientAlgoId"
            ):
                return algo
        raise VenueReject(400, -2013, "Order does not exist.")

    async def get(self, request: web.Request) -> web.Response:
        params = await self.futures.signed(request, LOOKUP_PARAMS)
        return web.json_response(self._view(self._lookup(params)))

    async def cancel(self, request: web.Request) -> web.Response:
        params = await self.futures.signed(request, LOOKUP_PARAMS)
        algo = self._lookup(params)
        if algo["algoStatus"] != "NEW":
            raise VenueReject(400, -20124, "Invalid algo id or it has been completed.")
        algo.update(algoStatus="CANCELED", updateTime=now_ms())
        self.book.save()
        return web.json_response(
            {"algoId": algo["algoId"], "clientAlgoId": algo["clientAlgoId"], "code": "200", "msg": "success"}
        )

    async def open_orders(self, request: web.Request) -> web.Response:
        params = await self.futures.signed(request, frozenset({"symbol", "algoType", "algoId"}))
        return web.json_response([
            self._view(a) for a in self._algos().values()
            if a["algoStatus"] == "NEW" and params.get("symbol") in (None, a["symbol"])
        ])  # fmt: skip

    async def on_price(self, symbol: str) -> None:
        """The venue's price of ``symbol`` moved: trailing extremes follow it, and each waiting
        algo order whose condition it meets triggers (in the order they were placed)."""
        price = Decimal(self.book.data["prices"][symbol])
        for algo in list(self._algos().values()):
            if algo["symbol"] != symbol or algo["algoStatus"] != "NEW":
                continue
            if self._crossed(algo, price):
                await self._trigger(algo, price)
        self.book.save()

    @staticmethod
    def _crossed(algo: dict[str, Any], price: Decimal) -> bool:
        buy, kind = algo["side"] == "BUY", algo["orderType"]
        if kind == "TRAILING_STOP_MARKET":  # from the best price since placement, by callbackRate %
            extreme = Decimal(algo["extreme"])
            extreme = min(extreme, price) if buy else max(extreme, price)
            algo["extreme"] = fmt(extreme)
            rate = Decimal(algo["callbackRate"]) / 100
            return price >= extreme * (1 + rate) if buy else price <= extreme * (1 - rate)
        trigger = Decimal(algo["triggerPrice"])
        if kind.startswith("STOP"):  # a buy stop above the market, a sell stop below
            return price >= trigger if buy else price <= trigger
        return price <= trigger if buy else price >= trigger  # take-profit: the other way

    async def _trigger(self, algo: dict[str, Any], price: Decimal) -> None:
        limit = algo["orderType"] in ("STOP", "TAKE_PROFIT")
        order = self.futures.new_order(
            algo["symbol"], algo["side"], "LIMIT" if limit else "MARKET", Decimal(algo["quantity"]),
            algo["price"], client_id=None, reduce_only=algo["reduceOnly"], position_side=algo["positionSide"],
            time_in_force=algo["timeInForce"],
        )  # fmt: skip
        order["origType"] = algo["orderType"]
        stamp = now_ms()
        algo.update(algoStatus="TRIGGERED", actualOrderId=str(order["orderId"]), triggerTime=stamp,
                    updateTime=stamp)  # fmt: skip
        if not limit:
            state = self.futures.state()
            self.futures.fill(state, order, price)
            algo["actualPrice"] = fmt(price)
            self.book.save()
            await self.futures.streams.publish_trade(order, state["trades"][-1])

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/fapi/v1/algoOrder", self.create)
        app.router.add_get("/fapi/v1/algoOrder", self.get)
        app.router.add_delete("/fapi/v1/algoOrder", self.cancel)
        app.router.add_get("/fapi/v1/openAlgoOrders", self.open_orders)
