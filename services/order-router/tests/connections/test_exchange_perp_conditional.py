"""Stop, take-profit and trailing-stop orders on a perpetual of an exchange account (issue 11):
through the router, the real ccxt library and the stand-in's Binance USDⓈ-M algo-order routes
(``/fapi/v1/algoOrder``). Each rests at the venue as an algo order, triggers when the venue's price
crosses and fills once as the normal order it became; cancelled before that, nothing trades; an
unanswered one is found by its client id (never sent twice); a restart of the router between
placing and triggering still books the fill once; a trailing percentage off Binance's steps is
refused naming the field, nothing stored or sent."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, fields, router_process
from test_exchange_perps import PERP, leverage_5, perp_trader
from test_exchange_restart import answers
from venue_harness import DEADLINE_S, exchange_account, order_status, submit_when_ready, venue_settings

from tradeloom.order_router import app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient

__all__ = ["leverage_5", "perp_trader"]  # fixtures, used by name
LINEAR = {"binance": {"fetchMarkets": {"types": ["spot", "linear"]}}}


@pytest_asyncio.fixture
async def polling_trader(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    standin_venue: Any,
    leverage_5: dict[str, str],
) -> AsyncIterator[Caller]:
    """The router polling its venue (every 0.2 s, no fill stream): reconcile runs on its own."""
    settings = venue_settings(or_settings, standin_venue).model_copy(update={"venue_options": LINEAR})
    runtime = app.build(settings)
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()


def perp_order(
    account_id: str, client_id: str, kind: str, side: str = "sell", **extra: str
) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": PERP, "side": side, "type": kind, "quantity": "0.01",
            "client_order_id": client_id, **extra}  # fmt: skip


async def priced_account(trader: Caller, standin: Any, neighbours: Neighbours) -> str:
    """An exchange account, and a trade of the perpetual seen (the router prices its checks)."""
    account_id = await exchange_account(trader, standin)
    await neighbours.trade("50000", "0.1", symbol=PERP, venue="binance")
    return account_id


async def algos(standin: Any) -> list[dict[str, Any]]:
    return list((await standin.control("state"))["fapi"].get("algo", {}).values())


async def wait_status(trader: Caller, order_id: str, status: str) -> None:
    async def reached() -> bool:
        return await answers(trader) and await order_status(trader, order_id) == status

    await eventually(reached, DEADLINE_S)


async def test_each_kind_rests_as_an_algo_order_triggers_and_fills_once(
    perp_trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    trader = perp_trader
    account_id = await priced_account(trader, standin_venue, neighbours)
    bodies = [
        perp_order(account_id, "k-sm", "stop_market", stop_price="49000"),
        perp_order(account_id, "k-sl", "stop_limit", stop_price="49000", price="48900"),
        perp_order(account_id, "k-tpm", "take_profit_market", side="buy", stop_price="49500"),
        perp_order(account_id, "k-tpl", "take_profit_limit", side="buy", stop_price="49500", price="49600"),
        perp_order(account_id, "k-tr", "trailing_stop", trailing_percent="1.5"),
    ]  # fmt: skip
    placed = {}
    for body in bodies:
        order = await submit_when_ready(trader, body)
        assert order["status"] == "new", order
        placed[body["client_order_id"]] = order["order_id"]
    assert sorted(a["clientAlgoId"] for a in await algos(standin_venue)) == sorted(placed)
    await standin_venue.control("set_price", symbol="BTCUSDT", price="49000")  # every one crosses
    for client_id in ("k-sm", "k-tpm", "k-tr"):  # market orders once triggered: filled at 49,000
        await wait_status(trader, placed[client_id], "filled")
    state = (await standin_venue.control("state"))["fapi"]
    triggered = {a["clientAlgoId"]: a["actualOrderId"] for a in state["algo"].values()}
    for client_id in ("k-sl", "k-tpl"):  # limit orders rest once triggered: filled at their price
        await standin_venue.control("fapi_fill", symbol="BTCUSDT", orderId=triggered[client_id])
        await wait_status(trader, placed[client_id], "filled")
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["order_id"], f["price"], f["quantity"]) for f in fills) == sorted([
        (placed["k-sm"], "49000", "0.01"), (placed["k-tpm"], "49000", "0.01"),
        (placed["k-tr"], "49000", "0.01"), (placed["k-sl"], "48900", "0.01"),
        (placed["k-tpl"], "49600", "0.01"),
    ])  # fmt: skip
    state = (await standin_venue.control("state"))["fapi"]
    assert len(state["orders"]) == 5 and len(state["algo"]) == 5  # each sent once, triggered once


async def test_cancel_before_the_trigger(
    polling_trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    trader = polling_trader
    account_id = await priced_account(trader, standin_venue, neighbours)
    order = await submit_when_ready(trader, perp_order(account_id, "c-1", "stop_market", stop_price="45000"))
    canceled = await trader("orders_cancel", {"order_id": order["order_id"]})
    assert canceled["status"] == "canceled"
    await standin_venue.control("set_price", symbol="BTCUSDT", price="44000")
    assert [a["algoStatus"] for a in await algos(standin_venue)] == ["CANCELED"]
    assert (await standin_venue.control("state"))["fapi"]["orders"] == {}  # never triggered


async def test_an_unanswered_algo_order_is_found_by_client_id_and_fills_once(
    polling_trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    trader = polling_trader
    account_id = await priced_account(trader, standin_venue, neighbours)
    await submit_when_ready(trader, perp_order(account_id, "warm-up", "limit", side="buy", price="40000"))
    await standin_venue.control("hang_next_order", seconds=8)  # taken; the answer after the deadline
    hung = await trader(
        "orders_submit", perp_order(account_id, "h-1", "take_profit_market", stop_price="51000")
    )
    assert hung["status"] == "pending_new"
    await wait_status(trader, hung["order_id"], "new")  # reconcile: the algo lookup by clientAlgoId
    assert [a["clientAlgoId"] for a in await algos(standin_venue)] == ["h-1"]  # never sent twice
    await standin_venue.control("set_price", symbol="BTCUSDT", price="51000")
    await wait_status(trader, hung["order_id"], "filled")
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert [(f["order_id"], f["price"]) for f in fills] == [(hung["order_id"], "51000")]


async def test_a_router_restart_between_placing_and_trigger_books_the_fill_once(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    standin_venue: Any,
    tmp_path: Path,
    leverage_5: None,
) -> None:
    settings = venue_settings(or_settings, standin_venue).model_copy(update={"venue_options": LINEAR})
    router = router_process(settings, tmp_path, venue_fill_streams=False)
    await asyncio.to_thread(router.start)
    trader = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        await eventually(lambda: answers(trader), DEADLINE_S)
        account_id = await priced_account(trader, standin_venue, neighbours)
        order = await submit_when_ready(
            trader, perp_order(account_id, "r-1", "stop_market", stop_price="49000")
        )
        assert order["status"] == "new"
        router.kill()
        await standin_venue.control("set_price", symbol="BTCUSDT", price="48000")  # triggers, fills
        await asyncio.to_thread(router.start)
        await wait_status(trader, order["order_id"], "filled")
        router.kill()
        await asyncio.to_thread(router.start)
        await eventually(lambda: answers(trader), DEADLINE_S)
        await submit_when_ready(trader, perp_order(account_id, "r-2", "limit", side="buy", price="40000"))
        fills = (await trader("fills_list", {"account_id": account_id}))["items"]
        assert [(f["order_id"], f["price"], f["quantity"]) for f in fills] == [
            (order["order_id"], "48000", "0.01")
        ]
        assert len((await standin_venue.control("state"))["fapi"]["algo"]) == 1
    finally:
        router.close()


async def test_off_grid_trailing_percent_is_refused_nothing_stored_or_sent(
    polling_trader: Caller, standin_venue: Any, neighbours: Neighbours
) -> None:
    trader = polling_trader
    account_id = await priced_account(trader, standin_venue, neighbours)
    await submit_when_ready(trader, perp_order(account_id, "warm-up", "limit", side="buy", price="40000"))
    for n, percent in enumerate(("1.55", "0.05", "10.5")):  # Binance USDⓈ-M: 0.1..10 % by 0.1
        body = perp_order(account_id, f"t-bad-{n}", "trailing_stop", trailing_percent=percent)
        error = await trader.error("orders_submit", body)
        assert (error.code, fields(error)[0][0]) == ("validation_error", "trailing_percent"), percent
    assert await algos(standin_venue) == []
    items = (await trader("orders_list", {"account_id": account_id}))["items"]
    assert [o["client_order_id"] for o in items] == ["warm-up"]
