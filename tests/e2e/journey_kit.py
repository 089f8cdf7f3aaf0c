"""The trader's journey's parts: the whole stack as processes with a fast synthetic market, a
client's WebSocket that keeps every message, and the independent equity recomputation.

The market is configured (test-only settings) to start half an hour in the past and run 60 times
faster, so a 1m candle closes about every second and a bot on 1m bars decides within seconds. It is
ahead of the wall clock by the time the bots trade (the paper exchange fills an order only with
trades after it); a run near midnight UTC spreads over two days, which the recomputation allows.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.conftest import Stack, running_stack
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.postgres_server import PostgresServer

PASSWORD = "violet-harbor-kettle-42"
SYMBOL = "BTC/USDT"
FAST_MARKET = {
    "TL_MARKET_DATA_SIM_SYMBOLS": json.dumps([SYMBOL]),
    "TL_MARKET_DATA_SIM_START_PRICES": "[30000]",
    "TL_MARKET_DATA_SIM_BACKDATE_S": "1800",
    "TL_MARKET_DATA_SIM_TIME_SCALE": "60",
    "TL_MARKET_DATA_SIM_TRADES_PER_S": "0.2",  # per market second: ~12 a wall second, ~12 a 1m candle
    "TL_MARKET_DATA_SIM_BOOK_INTERVAL_S": "1",
    "TL_ORDER_ROUTER_RISK_CHECK_TIMEOUT_S": "5",  # a busy 2-core box; the 50 ms default is for prod
    "TL_ANALYTICS_ROLL_INTERVAL_S": "1",
    # deadlines between services on a loaded 2-core CI box (the defaults are for an unloaded one)
    "TL_GATEWAY_AUTH_PROXY_TIMEOUT_S": "10",
    "TL_STRATEGY_RUNNER_ORDER_TIMEOUT_S": "10",
    "TL_STRATEGY_RUNNER_MARKET_DATA_TIMEOUT_S": "10",
    "TL_RISK_MONITOR_ORDER_ROUTER_TIMEOUT_S": "10",
    "TL_ANALYTICS_REMOTE_TIMEOUT_S": "10",
}
# Buy on an up bar (close above the previous close), sell on a down bar: a bot that trades often.
UP_DOWN_GRAPH: dict[str, Any] = {
    "nodes": [
        {"id": "close", "type": "input.close", "position": {"x": 0, "y": 0}},
        {"id": "prev", "type": "window.lag", "params": {"window": 1}},
        {"id": "up", "type": "compare.greater"},
        {"id": "down", "type": "compare.less"},
        {"id": "enter", "type": "sink.enter_long"},
        {"id": "exit", "type": "sink.exit_long"},
    ],
    "edges": [
        {"source": "close", "target": "prev", "target_port": "in"},
        {"source": "close", "target": "up", "target_port": "a"},
        {"source": "prev", "target": "up", "target_port": "b"},
        {"source": "close", "target": "down", "target_port": "a"},
        {"source": "prev", "target": "down", "target_port": "b"},
        {"source": "up", "target": "enter", "target_port": "when"},
        {"source": "down", "target": "exit", "target_port": "when"},
    ],
}


@contextlib.contextmanager
def journey_stack(
    nats_server: NatsServer,
    pg_server: PostgresServer,
    prefix: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
) -> Iterator[Stack]:
    """All eight services on a fresh database, migrated concurrently, the market fast."""
    with running_stack(nats_server, pg_server, prefix, log_dir, FAST_MARKET | (extra_env or {})) as stack:
        yield stack


class Socket:
    """One client's ``/v1/ws``: every message kept in arrival order by a reader task."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            self.messages.append(json.loads(raw))

    async def subscribe(self, channel: str) -> None:
        await self.ws.send(json.dumps({"op": "subscribe", "channel": channel}))
        await eventually(
            lambda: any(m.get("type") == "subscribed" and m.get("channel") == channel for m in self.messages),
            f"subscribed to {channel}",
        )

    def data(self, channel: str) -> list[dict[str, Any]]:
        """The ``data`` of every event received on ``channel``, in order."""
        return [m["event"]["data"] for m in self.messages if m["type"] == "event" and m["channel"] == channel]

    def order_statuses(self, order_id: str) -> list[str]:
        return [d["order"]["status"] for d in self.data("orders") if d["order"]["order_id"] == order_id]

    def fills_of(self, order_ids: set[str]) -> list[dict[str, Any]]:
        return [d["fill"] for d in self.data("fills") if d["fill"]["order_id"] in order_ids]

    def prices(self) -> set[Decimal]:
        return {Decimal(t["price"]) for d in self.data(f"prices.{SYMBOL}") for t in d["trades"]}


@contextlib.asynccontextmanager
async def socket(url: str, token: str, channels: tuple[str, ...]) -> AsyncIterator[Socket]:
    async with connect(url, ping_interval=None, max_size=None) as ws:
        await ws.send(json.dumps({"op": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        client = Socket(ws)
        for channel in channels:
            await client.subscribe(channel)
        try:
            yield client
        finally:
            client.reader.cancel()


async def session(http: httpx.AsyncClient, email: str) -> tuple[dict[str, str], str, str]:
    """A new user's auth headers, access token and user id."""
    body = {"email": email, "password": PASSWORD}
    registered = await http.post("/v1/auth/register", json=body)
    assert registered.status_code == 201, registered.text
    token = str((await http.post("/v1/auth/login", json=body)).json()["access_token"])
    return {"Authorization": f"Bearer {token}"}, token, str(registered.json()["id"])


def cash_and_position(fills: list[dict[str, Any]]) -> tuple[Decimal, Decimal]:
    """The cash flow (sells receive price × quantity, buys pay it, fees are paid; quote asset) and
    the net base position of some fills."""
    cash, position = Decimal(0), Decimal(0)
    for fill in fills:
        price, quantity, fee = Decimal(fill["price"]), Decimal(fill["quantity"]), Decimal(fill["fee"])
        assert fill["fee_asset"] == "USDT", fill
        sign = 1 if fill["side"] == "sell" else -1
        cash += sign * price * quantity - fee
        position -= sign * quantity
    return cash, position


def one_price_explains(equity: Decimal, cash: Decimal, position: Decimal, seen: set[Decimal]) -> bool:
    """Whether ``equity`` (relative to the capital) is the cash flow plus the position valued at one of
    the prices this client saw (exactly, in Decimal); with no position, the cash flow alone."""
    if position == 0:
        return equity == cash
    return any(equity == cash + position * price for price in seen)
