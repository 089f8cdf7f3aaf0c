"""A flatten of an exchange account's derivatives, carried out at the venue through the real ccxt
library against the stand-in's USDⓈ-M (fapi) and options (eapi) routes.

Perpetual, by hand (leverage 5, venue fee 0.04 % in USDT): long 0.01 bought at 50,000 (fee 0.2),
closed by the flatten's reduce-only market sell at the venue's price 52,000 (fee 0.208): PnL 20,
so USDT ends at 10,000 + 20 − 0.408 = 10,019.592, the venue's position flat, each fill booked once.
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest_asyncio
from nats.aio.client import Client
from or_harness import Caller, Neighbours
from test_exchange_options import CALL, VENUE_CALL, option_order
from test_exchange_perps import PERP, leverage_5, perp_limit
from test_flatten import _completed, completed_events, publish_flatten
from venue_harness import DEADLINE_S, exchange_account, order_status, submit_when_ready, venue_settings

from tradeloom.order_router import app
from tradeloom.order_router.flatten import close_client_id
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.testing.polling import eventually

__all__ = ["leverage_5"]  # the fixture, used by name


@pytest_asyncio.fixture
async def deriv_trader(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any, leverage_5: None
) -> AsyncIterator[Caller]:
    """The router on spot, linear perpetuals and options of the stand-in; fills polled."""
    options = {"binance": {"fetchMarkets": {"types": ["spot", "linear", "option"]}}}
    runtime = app.build(
        venue_settings(or_settings, standin_venue).model_copy(update={"venue_options": options})
    )
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()


async def _filled(trader: Caller, order_id: str) -> None:
    async def check() -> bool:
        return await order_status(trader, order_id) == "filled"

    await eventually(check, timeout=DEADLINE_S)


async def _usdt(trader: Caller, account_id: str) -> tuple[Decimal, Decimal]:
    balances = (await trader("accounts_balances", {"account_id": account_id}))["balances"]
    usdt = next(b for b in balances if b["asset"] == "USDT")
    return Decimal(usdt["free"]), Decimal(usdt["locked"])


async def test_a_flatten_closes_a_venue_perp_reduce_only_once(
    deriv_trader: Caller, standin_venue: Any, neighbours: Neighbours, nc: Client
) -> None:
    trader = deriv_trader
    account_id = await exchange_account(trader, standin_venue)
    opened = await submit_when_ready(trader, perp_limit(account_id, "fp-open", "buy", "50000"))
    await standin_venue.control("fapi_fill", symbol="BTCUSDT", clientOrderId="fp-open")
    await _filled(trader, opened["order_id"])
    await standin_venue.control("set_price", symbol="BTCUSDT", price="52000")  # the venue's mark

    flatten = await publish_flatten(neighbours, "alice", account_id)
    done = await eventually(lambda: _completed(nc, neighbours.subjects, account_id), timeout=DEADLINE_S)
    close_id = close_client_id(flatten.id, PERP)
    assert done.outcome == "closed" and done.left == []
    assert [(o.client_order_id, o.side, o.status, str(o.filled_quantity)) for o in done.orders] == [
        (close_id, "sell", "filled", "0.01")
    ]
    futures = (await standin_venue.control("state"))["fapi"]
    closes = [o for o in futures["orders"].values() if o["clientOrderId"] == close_id]
    assert [(o["side"], o["type"], o["reduceOnly"], o["status"]) for o in closes] == [
        ("SELL", "MARKET", True, "FILLED")
    ]
    assert Decimal(futures["positions"]["BTCUSDT"]["amt"]) == 0
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["side"], f["price"], f["fee"]) for f in fills) == [
        ("buy", "50000", "0.2"), ("sell", "52000", "0.208"),
    ]  # fmt: skip
    assert await _usdt(trader, account_id) == (Decimal("10019.592"), 0)
    assert Decimal(futures["wallet"]) == Decimal("10019.592")  # the venue agrees
    assert len(await completed_events(nc, neighbours.subjects, account_id)) == 1


async def test_a_flatten_sells_a_venue_option_at_the_venues_bid_or_leaves_it_with_none(
    deriv_trader: Caller, standin_venue: Any, neighbours: Neighbours, nc: Client
) -> None:
    """By hand (fee 0.02 % of the premium): bought 0.1 at 1,500 (fee 0.03); no bid at the venue:
    the first flatten leaves it (``no_option_quote``, nothing sent); with a bid of 1,605 the second
    sells it there with a reduce-only IOC limit order (premium 160.5, fee 0.0321): USDT ends at
    10,000 − 150.03 + 160.4679 = 10,010.4379, equal to the venue's options wallet."""
    trader = deriv_trader
    account_id = await exchange_account(trader, standin_venue)
    bought = await submit_when_ready(trader, option_order(account_id, "fo-buy", "buy", "1500"))
    await standin_venue.control("eapi_fill", symbol=VENUE_CALL, clientOrderId="fo-buy")
    await _filled(trader, bought["order_id"])

    async def completions(count: int) -> list[Any] | None:
        events = await completed_events(nc, neighbours.subjects, account_id)
        return events if len(events) >= count else None

    first = await publish_flatten(neighbours, "alice", account_id)
    [nothing] = await eventually(lambda: completions(1), timeout=DEADLINE_S)
    assert (nothing.outcome, nothing.orders) == ("partial", [])
    assert [(x.symbol, str(x.quantity), x.reason) for x in nothing.left] == [(CALL, "0.1", "no_option_quote")]
    options = (await standin_venue.control("state"))["eapi"]
    assert [o["clientOrderId"] for o in options["orders"].values()] == ["fo-buy"]
    assert close_client_id(first.id, CALL) not in {o["clientOrderId"] for o in options["orders"].values()}

    await standin_venue.control("eapi_book", symbol=VENUE_CALL, bids=[["1605", "2"]], asks=[["1650", "1"]])
    second = await publish_flatten(neighbours, "alice", account_id)
    done = (await eventually(lambda: completions(2), timeout=DEADLINE_S))[1]
    close_id = close_client_id(second.id, CALL)
    assert (done.outcome, done.left) == ("closed", [])
    assert [(o.client_order_id, o.side, o.status, str(o.filled_quantity)) for o in done.orders] == [
        (close_id, "sell", "filled", "0.1")
    ]
    options = (await standin_venue.control("state"))["eapi"]
    closes = [o for o in options["orders"].values() if o["clientOrderId"] == close_id]
    assert [
        (o["side"], o["type"], o["price"], o["timeInForce"], o["reduceOnly"], o["status"]) for o in closes
    ] == [("SELL", "LIMIT", "1605.00000000", "IOC", True, "FILLED")]
    fills = (await trader("fills_list", {"account_id": account_id}))["items"]
    assert sorted((f["side"], f["price"], f["quantity"], f["fee"]) for f in fills) == [
        ("buy", "1500", "0.1", "0.03"), ("sell", "1605", "0.1", "0.0321"),
    ]  # fmt: skip
    assert await _usdt(trader, account_id) == (Decimal("10010.4379"), 0)
    assert Decimal(options["wallet"]) == Decimal("10010.4379")
