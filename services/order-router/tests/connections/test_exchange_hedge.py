"""Hedge position mode on an exchange account, through the real ccxt library against the stand-in's
Binance USDⓈ-M routes (dual-side position mode): the venue is switched to hedge mode once, each
order carries ``positionSide`` (never ``reduceOnly``), a long and a short live side by side there
and here, and a sell on ``long`` closes the long only."""

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from nats.aio.client import Client
from nats.aio.msg import Msg
from or_harness import Caller, Neighbours, eventually
from venue_harness import DEADLINE_S, exchange_account, order_status, submit_when_ready, venue_settings

from tradeloom.order_router import app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient

PERP = "BTC/USDT:USDT"


@pytest.fixture
async def hedge_mode(nc: Client, neighbours: Neighbours) -> AsyncIterator[None]:
    """risk-monitor's ``perp_settings_list`` stand-in: 5× isolated, hedge mode on the perpetual."""

    async def answer(msg: Msg) -> None:
        account_id = json.loads(msg.data)["account_id"]
        item = {"account_id": account_id, "symbol": PERP, "leverage": "5", "margin_mode": "isolated",
                "position_mode": "hedge", "maintenance_margin_rate": "0.005", "updated_at": None}  # fmt: skip
        await msg.respond(json.dumps({"data": {"items": [item]}}).encode())

    sub = await nc.subscribe(neighbours.subjects.request("risk-monitor", "perp_settings_list"), cb=answer)
    try:
        yield
    finally:
        await sub.unsubscribe()


@pytest_asyncio.fixture
async def hedge_trader(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any, hedge_mode: None
) -> AsyncIterator[Caller]:
    settings = venue_settings(or_settings, standin_venue)
    update = {"venue_options": {"binance": {"fetchMarkets": {"types": ["spot", "linear"]}}}}
    runtime = app.build(settings.model_copy(update=update))
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()


def perp_limit(account_id: str, client_id: str, side: str, price: str, position_side: str) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": PERP, "side": side, "type": "limit", "quantity": "0.01",
            "price": price, "client_order_id": client_id, "position_side": position_side}  # fmt: skip


async def test_a_long_and_a_short_side_by_side_at_the_venue_in_hedge_mode(
    hedge_trader: Caller, standin_venue: Any
) -> None:
    trader = hedge_trader
    account_id = await exchange_account(trader, standin_venue)

    async def filled_at_venue(client_id: str, order_id: str) -> None:
        await standin_venue.control("fapi_fill", symbol="BTCUSDT", clientOrderId=client_id)

        async def filled() -> bool:
            return await order_status(trader, order_id) == "filled"

        await eventually(filled, DEADLINE_S)

    long = await submit_when_ready(trader, perp_limit(account_id, "h-long", "buy", "50000", "long"))
    no_side = perp_limit(account_id, "h-0", "buy", "50000", "long") | {"position_side": None}
    missing = await trader.error("orders_submit", no_side)
    assert [f["field"] for f in missing.details["fields"]] == ["position_side"]
    short = await trader("orders_submit", perp_limit(account_id, "h-short", "sell", "51000", "short"))
    assert (long["status"], short["status"]) == ("new", "new")
    await filled_at_venue("h-long", long["order_id"])
    await filled_at_venue("h-short", short["order_id"])
    closing = await trader("orders_submit", perp_limit(account_id, "h-close", "sell", "52000", "long"))
    assert closing["status"] == "new"
    await filled_at_venue("h-close", closing["order_id"])

    futures = (await standin_venue.control("state"))["fapi"]
    assert futures["dual"] is True and futures["changes"]["position_mode"] == 1  # switched once
    sent = [(o["clientOrderId"], o["positionSide"], o["reduceOnly"]) for o in futures["orders"].values()]
    assert sent == [("h-long", "LONG", False), ("h-short", "SHORT", False), ("h-close", "LONG", False)]
    positions = {key: Decimal(p["amt"]) for key, p in futures["positions"].items()}
    assert positions == {"BTCUSDT:LONG": 0, "BTCUSDT:SHORT": Decimal("-0.01")}
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["side"], f["price"]) for f in fills) == [
        ("buy", "50000"), ("sell", "51000"), ("sell", "52000")
    ]  # fmt: skip
    # our books agree: the long is closed (nothing left to sell on it), the short is open
    flat = await trader.error("orders_submit", perp_limit(account_id, "h-none", "sell", "52000", "long"))
    assert {f["rule"] for f in flat.details["fields"]} == {"no_position"}
    cover = await trader("orders_submit", perp_limit(account_id, "h-cover", "buy", "50500", "short"))
    assert cover["status"] == "new" and Decimal(cover["quantity"]) == Decimal("0.01")
    covering = (await standin_venue.control("state"))["fapi"]["orders"]
    assert [(o["positionSide"], o["side"]) for o in covering.values() if o["clientOrderId"] == "h-cover"] == [
        ("SHORT", "BUY")
    ]  # fmt: skip
