"""The venue's separate wallets of an exchange account, mirrored in its balances reply, read through
the real ccxt library from the stand-in's spot (``/api/v3/account``), USDⓈ-M futures
(``/fapi/v3/account``, ``fetchBalance`` with ``type: swap``) and options (``/eapi/v1/marginAccount``,
``eapiPrivateGetMarginAccount``) wallets, which hold different amounts so a mix-up shows.

By hand: spot 10,000 USDT, futures 25,000, options 7,000. An option bought (0.1 at 1,500, fee 0.03)
takes 150.03 from the options wallet (6,849.97); a perp long (0.01 at 50,000, 5×, fee 0.2) takes the
fee from the futures wallet (24,999.8) and holds 100 of it as initial margin (free 24,899.8); spot
stays 10,000. Our books keep the one USDT balance: 10,000 − 150.03 − 0.2 = 9,849.77 (free + locked).
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest_asyncio
from nats.aio.client import Client
from or_harness import Caller, Neighbours
from test_exchange_options import VENUE_CALL, option_order
from test_exchange_perps import leverage_5, perp_limit
from venue_harness import DEADLINE_S, exchange_account, order_status, submit_when_ready, venue_settings

from tradeloom.order_router import app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.testing.polling import eventually

__all__ = ["leverage_5"]  # the fixture, used by name

Wallets = dict[str, dict[str, tuple[Decimal, Decimal, Decimal]]]


@pytest_asyncio.fixture
async def wallet_trader(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any, leverage_5: None
) -> AsyncIterator[Caller]:
    """The router on spot, linear perpetuals and options of the stand-in; wallets read every pass."""
    update = {
        "venue_options": {"binance": {"fetchMarkets": {"types": ["spot", "linear", "option"]}}},
        "venue_wallets_interval_s": 0.0,
    }
    runtime = app.build(venue_settings(or_settings, standin_venue).model_copy(update=update))
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()


async def _wallets(trader: Caller, account_id: str) -> Wallets | None:
    reply = await trader("accounts_balances", {"account_id": account_id})
    if reply.get("wallets") is None:
        return None
    return {
        w["wallet"]: {
            b["asset"]: (Decimal(b["free"]), Decimal(b["locked"]), Decimal(b["total"])) for b in w["balances"]
        }
        for w in reply["wallets"]
    }


async def _until(
    trader: Caller, account_id: str, wanted: dict[str, tuple[Decimal, Decimal, Decimal]]
) -> Wallets:
    """The wallets once each named wallet's USDT is ``wanted`` (free, locked, total)."""

    async def check() -> Wallets | None:
        wallets = await _wallets(trader, account_id)
        if wallets is None or any(wallets.get(name, {}).get("USDT") != usdt for name, usdt in wanted.items()):
            return None
        return wallets

    result: Wallets = await eventually(check, timeout=DEADLINE_S)
    return result


async def _filled(trader: Caller, order_id: str) -> None:
    async def check() -> bool:
        return await order_status(trader, order_id) == "filled"

    await eventually(check, timeout=DEADLINE_S)


def _d(free: str, locked: str = "0") -> tuple[Decimal, Decimal, Decimal]:
    return Decimal(free), Decimal(locked), Decimal(free) + Decimal(locked)


async def test_each_venue_wallet_is_mirrored_on_its_own(wallet_trader: Caller, standin_venue: Any) -> None:
    trader = wallet_trader
    await standin_venue.control("fapi_wallet", amount="25000")
    await standin_venue.control("eapi_wallet", amount="7000")
    account_id = await exchange_account(trader, standin_venue)
    wallets = await _until(
        trader, account_id, {"spot": _d("10000"), "futures": _d("25000"), "options": _d("7000")}
    )
    assert sorted(wallets) == ["futures", "options", "spot"]
    assert wallets["spot"]["BTC"] == _d("1")  # the spot wallet's other assets too
    assert sorted(wallets["futures"]) == sorted(wallets["options"]) == ["USDT"]

    bought = await submit_when_ready(trader, option_order(account_id, "w-opt", "buy", "1500"))
    await standin_venue.control("eapi_fill", symbol=VENUE_CALL, clientOrderId="w-opt")
    await _filled(trader, bought["order_id"])
    await _until(trader, account_id, {"spot": _d("10000"), "futures": _d("25000"), "options": _d("6849.97")})

    opened = await submit_when_ready(trader, perp_limit(account_id, "w-perp", "buy", "50000"))
    await standin_venue.control("fapi_fill", symbol="BTCUSDT", clientOrderId="w-perp")
    await _filled(trader, opened["order_id"])
    wanted = {"spot": _d("10000"), "futures": _d("24899.8", "100"), "options": _d("6849.97")}
    await _until(trader, account_id, wanted)

    balances = (await trader("accounts_balances", {"account_id": account_id}))["balances"]
    usdt = next(b for b in balances if b["asset"] == "USDT")
    assert Decimal(usdt["free"]) + Decimal(usdt["locked"]) == Decimal("9849.77")  # our one USDT book


async def test_a_paper_account_has_no_venue_wallets(wallet_trader: Caller) -> None:
    account = await wallet_trader("accounts_create", {"name": "paper"})
    reply = await wallet_trader("accounts_balances", {"account_id": account["account_id"]})
    assert reply["wallets"] is None


async def test_a_spot_only_connection_mirrors_the_spot_wallet_only(
    trader: Caller, standin_venue: Any
) -> None:
    """Only spot markets loaded (``VENUE_OPTIONS``): the futures and options wallets are never asked for."""
    await standin_venue.control("fapi_wallet", amount="25000")
    account_id = await exchange_account(trader, standin_venue)
    wallets = await _until(trader, account_id, {"spot": _d("10000")})
    assert sorted(wallets) == ["spot"]
