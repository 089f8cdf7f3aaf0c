"""A stand-in for Binance spot's REST API: the subset ccxt's ``binance`` class calls to trade spot.

Run as a process: ``python venue_server.py --port P --state FILE --api-key K --secret S``.
Private routes check ``X-MBX-APIKEY``, the HMAC-SHA256 ``signature`` over the query string plus body
(as Binance defines it) and ``timestamp``/``recvWindow``; errors are Binance's ``{"code","msg"}``.
Routes under ``/_control/`` (unsigned, for tests) reject or hang the next order, simulate fills and
restart the process (re-exec on the same state file), and drop/resume the user data stream.
``/ws-api/v3`` is the user data stream ccxt pro subscribes to (``user_stream.py``): every fill is
pushed there as an ``executionReport``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import os
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web
from eapi_routes import Options
from fapi_algo import AlgoOrders
from fapi_routes import Futures
from user_stream import UserStreams
from venue_book import MARKETS, ORDER_TYPES, Book, VenueReject, fmt, now_ms, order_view
from venue_replies import cancel_reply, new_order_reply

BOOK = web.AppKey("book", Book)
BOOT_ID = web.AppKey("boot_id", str)
STREAMS = web.AppKey("streams", UserStreams)
FUTURES = web.AppKey("futures", Futures)
ALGO = web.AppKey("algo", AlgoOrders)


def error(status: int, code: int, msg: str) -> web.Response:
    return web.json_response({"code": code, "msg": msg}, status=status)


def _strip_signature(raw: str) -> tuple[str, str | None]:
    kept, signature = [], None
    for part in raw.split("&") if raw else []:
        if part.startswith("signature="):
            signature = unquote(part.removeprefix("signature="))
        else:
            kept.append(part)
    return "&".join(kept), signature


ORDER_PARAMS = frozenset({
    "symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price", "newClientOrderId",
    "newOrderRespType", "stopPrice", "icebergQty", "selfTradePreventionMode", "strategyId", "strategyType",
    "trailingDelta",
})  # fmt: skip
REPLACE_PARAMS = ORDER_PARAMS | {
    "cancelReplaceMode", "cancelOrderId", "cancelOrigClientOrderId", "cancelNewClientOrderId",
    "cancelRestrictions", "orderRateLimitExceededMode",
}  # fmt: skip
SIGNING_PARAMS = frozenset({"timestamp", "recvWindow"})


async def signed_params(request: web.Request, allowed: frozenset[str] | None = frozenset()) -> dict[str, str]:
    """Binance's SIGNED endpoint checks; returns query and body parameters together. Parameters
    outside ``allowed`` are refused like Binance does (-1104); ``None`` accepts any."""
    book = request.app[BOOK]
    api_key = request.headers.get("X-MBX-APIKEY")
    if not api_key:
        raise VenueReject(401, -2014, "API-key format invalid.")
    if not hmac.compare_digest(api_key, book.data["api_key"]):
        raise VenueReject(401, -2015, "Invalid API-key, IP, or permissions for action.")
    query, query_signature = _strip_signature(request.query_string)
    body, body_signature = _strip_signature(await request.text())
    signature = query_signature or body_signature
    params = dict(parse_qsl(query)) | dict(parse_qsl(body))
    if signature is None:
        raise VenueReject(
            400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
        )
    expected = hmac.new(book.data["secret"].encode(), (query + body).encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise VenueReject(400, -1022, "Signature for this request is not valid.")
    if not params.get("timestamp", "").isdigit():
        raise VenueReject(
            400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed."
        )
    recv_window = int(params.get("recvWindow", "5000"))
    if recv_window > 60000:
        raise VenueReject(400, -1131, "recvWindow must be less than 60000")
    timestamp, server_time = int(params["timestamp"]), now_ms()
    if timestamp > server_time + 1000 or server_time - timestamp > recv_window:
        raise VenueReject(400, -1021, "Timestamp for this request is outside of the recvWindow.")
    if allowed is not None and (unread := set(params) - allowed - SIGNING_PARAMS):
        read = len(params) - len(unread)
        msg = f"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{len(params)}'."
        raise VenueReject(400, -1104, msg)
    return params


@web.middleware
async def venue_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        return await handler(request)
    except VenueReject as reject:
        return error(reject.status, reject.code, reject.msg)


def _market(symbol: str) -> dict[str, Any]:
    base, quote, tick, step, min_notional = MARKETS[symbol]
    return {
        "symbol": symbol, "status": "TRADING", "baseAsset": base, "baseAssetPrecision": 8,
        "quoteAsset": quote, "quotePrecision": 8, "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8, "quoteCommissionPrecision": 8,
        "orderTypes": list(ORDER_TYPES), "icebergAllowed": True, "ocoAllowed": False,
        "quoteOrderQtyMarketAllowed": False, "allowTrailingStop": False, "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": fmt(Decimal(tick)), "maxPrice": "1000000.00000000",
             "tickSize": fmt(Decimal(tick))},
            {"filterType": "LOT_SIZE", "minQty": fmt(Decimal(step)), "maxQty": "9000.00000000",
             "stepSize": fmt(Decimal(step))},
            {"filterType": "NOTIONAL", "minNotional": fmt(Decimal(min_notional)), "applyMinToMarket": True,
             "maxNotional": "9000000.00000000", "applyMaxToMarket": False, "avgPriceMins": 5},
        ],
        "permissions": [], "permissionSets": [["SPOT"]], "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }  # fmt: skip


async def exchange_info(request: web.Request) -> web.Response:
    return web.json_response({
        "timezone": "UTC", "serverTime": now_ms(),
        "rateLimits": [
            {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000}
        ],
        "exchangeFilters": [], "symbols": [_market(symbol) for symbol in MARKETS],
    })  # fmt: skip


async def ping(request: web.Request) -> web.Response:
    return web.json_response({})


async def server_time(request: web.Request) -> web.Response:
    return web.json_response({"serverTime": now_ms()})


async def account(request: web.Request) -> web.Response:
    await signed_params(request, frozenset({"omitZeroBalances"}))
    book = request.app[BOOK]
    perms = book.data["permissions"]
    balances = [
        {"asset": asset, "free": fmt(Decimal(b["free"])), "locked": fmt(Decimal(b["locked"]))}
        for asset, b in sorted(book.data["balances"].items())
    ]
    return web.json_response({
        "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0, "sellerCommission": 0,
        "canTrade": perms["trade"], "canWithdraw": perms["withdraw"], "canDeposit": True, "brokered": False,
        "requireSelfTradePrevention": False, "preventSor": False, "updateTime": now_ms(),
        "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"], "uid": 354937868,
    })  # fmt: skip


async def api_restrictions(request: web.Request) -> web.Response:
    await signed_params(request)
    perms = request.app[BOOK].data["permissions"]
    return web.json_response({
        "ipRestrict": False, "createTime": 1698645219000, "enableReading": perms["read"],
        "enableWithdrawals": perms["withdraw"], "enableInternalTransfer": False, "enableMargin": False,
        "enableFutures": False, "permitsUniversalTransfer": False, "enableVanillaOptions": False,
        "enableFixApiTrade": False, "enableFixReadOnly": False,
        "enableSpotAndMarginTrading": perms["trade"], "enablePortfolioMarginTrading": False,
    })  # fmt: skip


async def empty_list(request: web.Request) -> web.Response:
    """Coins and margin pairs: ccxt asks while loading markets; this venue has no margin."""
    await signed_params(request, None)
    return web.json_response([])


async def create_order(request: web.Request) -> web.Response:
    params = await signed_params(request, ORDER_PARAMS)
    book = request.app[BOOK]
    controls = book.data["controls"]
    if reject := controls.pop("reject_next_order", None):
        book.save()
        raise VenueReject(400, int(reject["code"]), str(reject["msg"]))
    order = book.create(params)
    hang = controls.pop("hang_next_order", None)
    book.save()
    for trade in [t for t in book.data["trades"] if t["orderId"] == order["orderId"]]:
        await request.app[STREAMS].publish_trade(order, trade)
    if hang is not None:
        await asyncio.sleep(float(hang))  # accepted and stored; the answer comes after the client gave up
    return web.json_response(new_order_reply(book, order))


def _lookup(book: Book, params: dict[str, str]) -> dict[str, Any]:
    if "orderId" not in params and "origClientOrderId" not in params:
        raise VenueReject(
            400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!"
        )
    return book.find(params.get("symbol", ""), params.get("orderId"), params.get("origClientOrderId"))


async def get_order(request: web.Request) -> web.Response:
    params = await signed_params(request, frozenset({"symbol", "orderId", "origClientOrderId"}))
    return web.json_response(order_view(_lookup(request.app[BOOK], params)))


async def cancel_order(request: web.Request) -> web.Response:
    allowed = frozenset({"symbol", "orderId", "origClientOrderId", "newClientOrderId", "cancelRestrictions"})
    params = await signed_params(request, allowed)
    book = request.app[BOOK]
    order = book.cancel(_lookup(book, params))
    book.save()
    return web.json_response(cancel_reply(order))


async def cancel_replace(request: web.Request) -> web.Response:
    """POST /api/v3/order/cancelReplace, mode STOP_ON_FAILURE: cancel, then place the new order."""
    params = await signed_params(request, REPLACE_PARAMS)
    book = request.app[BOOK]
    if params.get("cancelReplaceMode") != "STOP_ON_FAILURE":
        raise VenueReject(400, -1102, "Mandatory parameter 'cancelReplaceMode' was not sent, was empty/null.")
    symbol = params.get("symbol", "")
    old = book.find(symbol, params.get("cancelOrderId"), params.get("cancelOrigClientOrderId"))
    canceled = book.cancel(old)
    order = book.create(params)
    book.save()
    return web.json_response({
        "cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
        "cancelResponse": cancel_reply(canceled), "newOrderResponse": new_order_reply(book, order),
    })  # fmt: skip


async def open_orders(request: web.Request) -> web.Response:
    params = await signed_params(request, frozenset({"symbol"}))
    symbol = params.get("symbol")
    orders = request.app[BOOK].data["orders"].values()
    return web.json_response([
        order_view(o) for o in orders
        if o["status"] in ("NEW", "PARTIALLY_FILLED") and (symbol is None or o["symbol"] == symbol)
    ])  # fmt: skip


async def my_trades(request: web.Request) -> web.Response:
    request.app[STREAMS].my_trades_calls += 1  # tests tell a pushed fill from a polled one
    allowed = frozenset({"symbol", "orderId", "startTime", "endTime", "fromId", "limit"})
    params = await signed_params(request, allowed)
    if params.get("symbol") not in MARKETS:
        raise VenueReject(400, -1121, "Invalid symbol.")
    start = int(params.get("startTime", "0"))
    from_id = int(params.get("fromId", "0"))
    limit = min(int(params.get("limit", "500")), 1000)
    trades = [
        t for t in request.app[BOOK].data["trades"]
        if t["symbol"] == params["symbol"] and t["time"] >= start and t["id"] >= from_id
    ]  # fmt: skip
    return web.json_response(trades[:limit])


async def control(request: web.Request) -> web.Response:
    """Test hooks: reject_next_order, hang_next_order, fill, set_price, set_permissions, state,
    drop_user_streams, resume_user_streams, restart."""
    book = request.app[BOOK]
    action = request.match_info["action"]
    body = await request.json() if request.can_read_body else {}
    if action == "reject_next_order":
        book.data["controls"]["reject_next_order"] = {
            "code": body.get("code", -2010),
            "msg": body.get("msg", "Order rejected by the stand-in venue."),
        }
    elif action == "hang_next_order":
        book.data["controls"]["hang_next_order"] = float(body.get("seconds", 30))
    elif action == "fill":
        order = book.find(body["symbol"], body.get("orderId"), body.get("clientOrderId"))
        price = Decimal(body.get("price") or order["price"])
        qty = Decimal(body.get("qty") or Decimal(order["origQty"]) - Decimal(order["executedQty"]))
        trade = book.fill(order, qty, price)
        book.save()
        await request.app[STREAMS].publish_trade(order, trade)
        return web.json_response(trade)
    elif action == "set_price":
        book.data["prices"][body["symbol"]] = str(body["price"])
        await request.app[ALGO].on_price(body["symbol"])  # USDⓈ-M algo orders trigger (fapi_algo.py)
    elif action == "set_permissions":
        book.data["permissions"].update({k: bool(v) for k, v in body.items()})
    elif action == "drop_user_streams":
        await request.app[STREAMS].drop()
        await request.app[FUTURES].streams.drop()
    elif action == "resume_user_streams":
        request.app[STREAMS].down = request.app[FUTURES].streams.down = False
    elif action == "restart":
        # answer, then replace this process by a fresh one on the same state file (same port)
        asyncio.get_running_loop().call_later(0.05, os.execv, sys.executable, [sys.executable, *sys.argv])
    elif action != "state":
        return error(404, -1, f"unknown control {action}")
    book.save()
    streams = request.app[STREAMS]
    futures_streams = len(request.app[FUTURES].streams.sockets)
    counts = {
        "user_streams": len(streams.sockets),
        "my_trades_calls": streams.my_trades_calls,
        "futures_streams": futures_streams,
        "user_trades_calls": request.app[FUTURES].user_trades_calls,
    }
    return web.json_response(book.data | {"boot_id": request.app[BOOT_ID]} | counts)


def build_app(book: Book) -> web.Application:
    app = web.Application(middlewares=[venue_errors])
    app[BOOK] = book
    app[BOOT_ID] = uuid.uuid4().hex
    app[STREAMS] = UserStreams(book)
    app[FUTURES] = Futures(book, signed_params)  # USDⓈ-M perpetuals (fapi_routes.py)
    app.router.add_get("/api/v3/ping", ping)
    app.router.add_get("/api/v3/time", server_time)
    app.router.add_get("/api/v3/exchangeInfo", exchange_info)
    app.router.add_get("/api/v3/account", account)
    app.router.add_post("/api/v3/order", create_order)
    app.router.add_get("/api/v3/order", get_order)
    app.router.add_delete("/api/v3/order", cancel_order)
    app.router.add_post("/api/v3/order/cancelReplace", cancel_replace)
    app.router.add_get("/api/v3/openOrders", open_orders)
    app.router.add_get("/api/v3/myTrades", my_trades)
    app.router.add_get("/sapi/v1/account/apiRestrictions", api_restrictions)
    for path in ("capital/config/getall", "margin/allPairs", "margin/isolated/allPairs"):
        app.router.add_get("/sapi/v1/" + path, empty_list)
    app.router.add_get("/ws-api/v3", app[STREAMS].handler)
    app[FUTURES].add_routes(app)
    app[ALGO] = AlgoOrders(app[FUTURES])  # USDⓈ-M conditional orders (fapi_algo.py)
    app[ALGO].add_routes(app)
    Options(book, signed_params).add_routes(app)  # European options (eapi_routes.py)
    app.router.add_post("/_control/{action}", control)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--balances", default="USDT=10000,BTC=1,ETH=10")
    args = parser.parse_args()
    balances = dict(item.split("=", 1) for item in args.balances.split(","))
    book = Book.open(args.state, args.api_key, args.secret, balances)
    web.run_app(build_app(book), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
