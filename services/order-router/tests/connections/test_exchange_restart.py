"""order-router killed with SIGKILL while an exchange order is open: the fill that happened at the
venue meanwhile is applied once after the restart (reconciliation), and again after another kill."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually
from venue_harness import (
    DEADLINE_S,
    VENUE_TIMEOUT_S,
    exchange_account,
    limit_buy,
    order_status,
    submit_when_ready,
    venue_settings,
)

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient


class Router:
    """``python -m tradeloom.order_router run`` with the test's settings, venue at the stand-in."""

    def __init__(self, settings: OrderRouterSettings, log: Path) -> None:
        keys = settings.credential_keys
        assert keys is not None
        self.env = {
            **os.environ,
            "TL_ORDER_ROUTER_DATABASE_URL": settings.database_url.get_secret_value(),
            "TL_ORDER_ROUTER_NATS_URL": settings.nats_url,
            "TL_ORDER_ROUTER_NATS_PREFIX": settings.nats_prefix,
            "TL_ORDER_ROUTER_DB_SCHEMA": settings.db_schema,
            "TL_ORDER_ROUTER_ENVIRONMENT": "test",
            "TL_ORDER_ROUTER_HEALTH_PORT": str(settings.health_port),
            "TL_ORDER_ROUTER_LOG_JSON": "false",
            "TL_ORDER_ROUTER_RISK_CHECK_TIMEOUT_S": "1",
            "TL_ORDER_ROUTER_CREDENTIAL_KEYS": keys.get_secret_value(),
            "TL_ORDER_ROUTER_VENUE_API_URLS": json.dumps(settings.venue_api_urls),
            "TL_ORDER_ROUTER_VENUE_OPTIONS": json.dumps(settings.venue_options),
            "TL_ORDER_ROUTER_VENUE_TIMEOUT_S": str(VENUE_TIMEOUT_S),
            "TL_ORDER_ROUTER_VENUE_POLL_INTERVAL_S": "0.2",
        }
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tradeloom.order_router", "run"], env=self.env, stdout=out, stderr=out
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()


async def answers(caller: Caller) -> bool:
    try:
        await caller("exchange_venues_list")
    except ServiceError:
        return False
    return True


async def test_fills_while_down_are_applied_once_after_kill_9(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any, tmp_path: Path
) -> None:
    router = Router(venue_settings(or_settings, standin_venue), tmp_path / "order-router.log")
    router.start()
    trader = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        await eventually(lambda: answers(trader), DEADLINE_S)
        account_id = await exchange_account(trader, standin_venue)
        order = await submit_when_ready(trader, limit_buy(account_id, "k-1"))
        assert order["status"] == "new"
        router.kill()
        await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="k-1", qty="0.004")
        await standin_venue.control("fill", symbol="BTCUSDT", clientOrderId="k-1")
        router.start()

        async def filled() -> bool:
            return await answers(trader) and await order_status(trader, order["order_id"]) == "filled"

        await eventually(filled, DEADLINE_S)
        router.kill()
        router.start()
        await eventually(lambda: answers(trader), DEADLINE_S)
        await submit_when_ready(trader, limit_buy(account_id, "k-2"))  # reconciled again
        fills = (await trader("fills_list", {"account_id": account_id}))["items"]
        assert sorted(f["quantity"] for f in fills) == ["0.004", "0.006"]
        assert all(f["order_id"] == order["order_id"] for f in fills)
    finally:
        router.stop()
