"""Helpers of the exchange connection tests (imported by name: this folder is on sys.path)."""

import asyncio
import time
from typing import Any

import ccxt
from or_harness import Caller

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import RemoteError

SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}}
VENUE_TIMEOUT_S = 2.0
DEADLINE_S = 60.0


def venue_settings(settings: OrderRouterSettings, standin: Any) -> OrderRouterSettings:
    """The router's settings with ``binance`` served by the stand-in (as an operator would point
    it at a regional host: ``TL_ORDER_ROUTER_VENUE_API_URLS``)."""
    urls = standin.ccxt_api_urls(ccxt.binance().urls["api"])
    update = {
        "venue_api_urls": {"binance": urls},
        "venue_options": {"binance": SPOT_ONLY},
        "venue_timeout_s": VENUE_TIMEOUT_S,
        "venue_poll_interval_s": 0.2,
        "venue_fill_streams": False,  # polling only here (test_exchange_fill_stream.py: the socket)
        # far below how long an unanswered venue order waits for reconcile: proves the sweep of
        # interrupted paper submissions leaves exchange orders alone
        "pending_new_timeout_s": 0.5,
    }
    return settings.model_copy(update=update)


async def exchange_account(trader: Caller, standin: Any) -> str:
    body = {"venue": "binance", "label": "main", "api_key": standin.api_key, "secret": standin.secret}
    connection = await trader("exchange_connections_create", body)
    account = await trader(
        "exchange_accounts_create", {"connection_id": connection["connection_id"], "name": "spot"}
    )
    return str(account["account_id"])


async def submit_when_ready(trader: Caller, body: dict[str, Any]) -> dict[str, Any]:
    """An exchange account takes orders once it has been reconciled with its venue."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        try:
            return await trader("orders_submit", body)
        except RemoteError as error:
            if error.code != "unavailable" or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)


def limit_buy(account_id: str, client_id: str) -> dict[str, Any]:
    return {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit",
            "quantity": "0.01", "price": "40000", "client_order_id": client_id}  # fmt: skip


async def venue_orders(standin: Any, client_id: str) -> list[dict[str, Any]]:
    state = await standin.control("state")
    return [o for o in state["orders"].values() if o["clientOrderId"] == client_id]


async def order_status(trader: Caller, order_id: str) -> str:
    return str((await trader("orders_get", {"order_id": order_id}))["order"]["status"])
