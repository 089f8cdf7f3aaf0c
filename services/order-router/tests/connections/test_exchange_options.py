"""An option on an exchange account: bought and sold through the router, the real ccxt library
and the stand-in's Binance options (eapi) routes; fills polled (ccxt pro has no options user
stream); the sell filled at the venue while the router is down and found after its restart.

By hand (venue fee 0.02 % of the premium, in USDT): buy 0.1 at 1,500 (premium 150, fee 0.03),
reduce-only sell 0.1 at 1,600 (premium 160, fee 0.032): USDT ends at 10,000 − 150.03 + 159.968
= 10,009.938, no option held, nothing locked.
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest_asyncio
from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, fields
from venue_harness import DEADLINE_S, exchange_account, order_status, submit_when_ready, venue_settings

from tradeloom.order_router import app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.runtime import ServiceRuntime

CALL = "BTC/USDT:USDT-270129-65000-C"
VENUE_CALL = "BTC-270129-65000-C"


class Router:
    """order-router in-process, stopped and started again on the same settings."""

    def __init__(self, settings: OrderRouterSettings) -> None:
        self.settings = settings
        self.runtime: ServiceRuntime | None = None

    async def start(self) -> None:
        self.runtime = app.build(self.settings)
        await self.runtime.start()

    async def stop(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
        self.runtime = None


@pytest_asyncio.fixture
async def router(or_settings: OrderRouterSettings, standin_venue: Any) -> AsyncIterator[Router]:
    options = {"binance": {"fetchMarkets": {"types": ["spot", "option"]}}}
    settings = venue_settings(or_settings, standin_venue).model_copy(update={"venue_options": options})
    router = Router(settings)
    await router.start()
    try:
        yield router
    finally:
        await router.stop()


def option_order(account_id: str, client_id: str, side: str, price: str, **extra: Any) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": CALL, "side": side, "type": "limit", "quantity": "0.1",
            "price": price, "client_order_id": client_id, **extra}  # fmt: skip


async def test_buy_then_sell_an_option_on_a_venue_each_fill_once(
    router: Router, neighbours: Neighbours, nc: Client, standin_venue: Any
) -> None:
    trader = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    account_id = await exchange_account(trader, standin_venue)

    async def reaches(order_id: str, status: str) -> None:
        async def check() -> bool:
            return await order_status(trader, order_id) == status

        await eventually(check, DEADLINE_S)

    market = option_order(account_id, "opt-m", "buy", "1500", type="market")
    market.pop("price")
    refused = await trader.error("orders_submit", market)
    assert (refused.code, [f for f, _ in fields(refused)]) == ("validation_error", ["type"])

    bought = await submit_when_ready(trader, option_order(account_id, "opt-buy", "buy", "1500"))
    assert bought["status"] == "new"
    off_grid = await trader.error("orders_submit", option_order(account_id, "opt-g", "buy", "1502"))
    assert [f for f, _ in fields(off_grid)] == ["price"]  # the registry's tick (5), never sent
    await standin_venue.control("eapi_fill", symbol=VENUE_CALL, clientOrderId="opt-buy")
    await reaches(bought["order_id"], "filled")

    selling = await trader(
        "orders_submit", option_order(account_id, "opt-sell", "sell", "1600", reduce_only=True)
    )
    assert selling["status"] == "new"
    await router.stop()  # filled at the venue while the router is down: found by client id after
    await standin_venue.control("eapi_fill", symbol=VENUE_CALL, clientOrderId="opt-sell")
    await router.start()
    await reaches(selling["order_id"], "filled")

    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["side"], f["price"], f["quantity"], f["fee"]) for f in fills) == [
        ("buy", "1500", "0.1", "0.03"), ("sell", "1600", "0.1", "0.032"),
    ]  # fmt: skip
    balances = {
        b["asset"]: (Decimal(b["free"]), Decimal(b["locked"]))
        for b in (await trader("accounts_balances", {"account_id": account_id}))["balances"]
    }
    assert balances["USDT"] == (Decimal("10009.938"), 0)
    assert balances.get(CALL, (0, 0)) == (0, 0)
    options = (await standin_venue.control("state"))["eapi"]  # each order sent once
    assert [(o["clientOrderId"], o["reduceOnly"]) for o in options["orders"].values()] == [
        ("opt-buy", False),
        ("opt-sell", True),
    ]  # fmt: skip
    assert Decimal(options["wallet"]) == Decimal("10009.938")  # the venue's options wallet agrees
