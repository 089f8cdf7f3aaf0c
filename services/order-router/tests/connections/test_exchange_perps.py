"""A perpetual on an exchange account: open and close through the router, the real ccxt library
and the stand-in's Binance USDⓈ-M routes; the venue's leverage set once from risk-monitor's setting;
the fills pushed over the futures user data stream (listenKey + ``ORDER_TRADE_UPDATE``).

By hand (leverage 5, venue fee 0.04 % in USDT): buy 0.01 at 50,000 (fee 0.2), reduce-only sell
0.01 at 51,000 (fee 0.204): PnL 10, so USDT ends at 10,000 + 10 − 0.404 = 10,009.596, nothing locked.
"""

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
async def leverage_5(nc: Client, neighbours: Neighbours) -> AsyncIterator[dict[str, str]]:
    """risk-monitor's ``perp_settings_list`` stand-in: 5× isolated on the perpetual (a test may
    change the margin mode in the yielded dict, as a user would through risk-monitor)."""
    setting = {"margin_mode": "isolated"}

    async def answer(msg: Msg) -> None:
        account_id = json.loads(msg.data)["account_id"]
        item = {"account_id": account_id, "symbol": PERP, "leverage": "5",
                "margin_mode": setting["margin_mode"], "maintenance_margin_rate": "0.005",
                "updated_at": None}  # fmt: skip
        await msg.respond(json.dumps({"data": {"items": [item]}}).encode())

    sub = await nc.subscribe(neighbours.subjects.request("risk-monitor", "perp_settings_list"), cb=answer)
    try:
        yield setting
    finally:
        await sub.unsubscribe()


@pytest_asyncio.fixture
async def perp_trader(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    standin_venue: Any,
    leverage_5: dict[str, str],
) -> AsyncIterator[Caller]:
    settings = venue_settings(or_settings, standin_venue)
    options = {"binance": {"fetchMarkets": {"types": ["spot", "linear"]}}}
    # fills over the futures user data stream; polling as good as off (one pass at start)
    update = {"venue_options": options, "venue_fill_streams": True, "venue_poll_interval_s": 3600.0}
    runtime = app.build(settings.model_copy(update=update))
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()


def perp_limit(account_id: str, client_id: str, side: str, price: str, **extra: Any) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": PERP, "side": side, "type": "limit", "quantity": "0.01",
            "price": price, "client_order_id": client_id, **extra}  # fmt: skip


async def test_open_and_close_a_perp_position_leverage_set_once(
    perp_trader: Caller, standin_venue: Any
) -> None:
    trader = perp_trader
    account_id = await exchange_account(trader, standin_venue)

    async def streaming() -> bool:
        return bool((await standin_venue.control("state"))["futures_streams"])

    async def filled_at_venue(client_id: str, order_id: str) -> None:
        await eventually(streaming, DEADLINE_S)
        await standin_venue.control("fapi_fill", symbol="BTCUSDT", clientOrderId=client_id)

        async def filled() -> bool:
            return await order_status(trader, order_id) == "filled"

        await eventually(filled, DEADLINE_S)

    opened = await submit_when_ready(trader, perp_limit(account_id, "perp-open", "buy", "50000"))
    assert opened["status"] == "new"
    await filled_at_venue("perp-open", opened["order_id"])
    # long: a reduce-only buy has nothing to reduce (refused here, never sent)
    refused = await trader.error(
        "orders_submit", perp_limit(account_id, "perp-0", "buy", "49000", reduce_only=True)
    )
    assert (refused.details["fields"][0]["field"], refused.details["fields"][0]["rule"]) == (
        "reduce_only", "no_position",
    )  # fmt: skip
    closing = await trader(
        "orders_submit", perp_limit(account_id, "perp-close", "sell", "51000", reduce_only=True)
    )
    assert closing["status"] == "new"
    await filled_at_venue("perp-close", closing["order_id"])

    state = await standin_venue.control("state")
    assert state["user_trades_calls"] == 0  # both fills pushed over the futures stream, none polled
    futures = state["fapi"]
    assert Decimal(futures["positions"]["BTCUSDT"]["amt"]) == 0
    assert futures["leverage"] == {"BTCUSDT": 5}
    assert futures["changes"] == {"leverage": 1, "margin_type": 1, "position_mode": 0}
    assert [o["reduceOnly"] for o in futures["orders"].values()] == [False, True]
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["side"], f["price"], f["fee"]) for f in fills) == [
        ("buy", "50000", "0.2"), ("sell", "51000", "0.204"),
    ]  # fmt: skip
    balances = (await trader("accounts_balances", {"account_id": account_id}))["balances"]
    usdt = next(b for b in balances if b["asset"] == "USDT")
    assert (Decimal(usdt["free"]), Decimal(usdt["locked"])) == (Decimal("10009.596"), 0)
    assert Decimal(futures["wallet"]) == Decimal("10009.596")  # the venue agrees


async def test_cross_margin_from_risk_monitor_reaches_the_venue_once(
    perp_trader: Caller, standin_venue: Any, leverage_5: dict[str, str]
) -> None:
    """Issue 11: risk-monitor's margin mode is set at the venue (isolated, then cross once the
    user changes it), once per symbol and mode; the order in cross margin then trades."""
    trader = perp_trader
    account_id = await exchange_account(trader, standin_venue)
    first = await submit_when_ready(trader, perp_limit(account_id, "iso-1", "buy", "50000"))
    assert first["status"] == "new"
    futures = (await standin_venue.control("state"))["fapi"]
    assert futures["margin_type"] == {"BTCUSDT": "ISOLATED"}
    leverage_5["margin_mode"] = "cross"
    for client_id in ("cross-1", "cross-2"):
        placed = await trader("orders_submit", perp_limit(account_id, client_id, "buy", "49000"))
        assert placed["status"] == "new"
    futures = (await standin_venue.control("state"))["fapi"]
    assert futures["margin_type"] == {"BTCUSDT": "CROSSED"}
    assert futures["changes"]["margin_type"] == 2  # isolated once, cross once: not with every order
    await standin_venue.control("fapi_fill", symbol="BTCUSDT", clientOrderId="cross-2")

    async def filled() -> bool:
        return await order_status(trader, placed["order_id"]) == "filled"

    await eventually(filled, DEADLINE_S)
    assert Decimal((await standin_venue.control("state"))["fapi"]["positions"]["BTCUSDT"]["amt"]) == Decimal(
        "0.01"
    )
