"""The ``orders`` and ``fills`` WebSocket channels through the real processes: order-router writes its
events through its outbox, the gateway streams each to its owner's sockets only.

User A and user B each hold a socket subscribed to both channels. A market order of A on a paper
account fills on the next market trade: A's socket gets the order's ``new`` and ``filled`` updates
and the fill. B's socket never gets any of A's: B's own order, submitted after A's was filled, is
the positive barrier (a socket gets the stream in order, so once B has B's own later events it has
passed A's). A third order of A after B's is the same barrier the other way round.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from nats.aio.client import Client
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.order_stack import Neighbours, TradingStack, trading_stack
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = pytest.mark.e2e
PASSWORD = "violet-harbor-kettle-42"
CHANNELS = ("orders", "fills")


class Socket:
    """One client's ``/v1/ws``: every message kept in arrival order by a reader task."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            self.messages.append(json.loads(raw))

    def events(self, channel: str) -> list[dict[str, Any]]:
        return [m["event"] for m in self.messages if m["type"] == "event" and m["channel"] == channel]

    def order_statuses(self, order_id: str) -> list[str]:
        updates = [e["data"]["order"] for e in self.events("orders")]
        return [o["status"] for o in updates if o["order_id"] == order_id]

    def fills_of(self, order_id: str) -> list[dict[str, Any]]:
        return [e["data"]["fill"] for e in self.events("fills") if e["data"]["fill"]["order_id"] == order_id]


async def eventually(check: Callable[[], bool], timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def socket(url: str, token: str) -> AsyncIterator[Socket]:
    async with connect(url) as ws:
        await ws.send(json.dumps({"op": "auth", "token": token}))
        assert json.loads(await ws.recv())["type"] == "welcome"
        client = Socket(ws)
        for channel in CHANNELS:
            await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
        subscribed = [{"type": "subscribed", "channel": c} for c in CHANNELS]
        await eventually(
            lambda: all(any(s.items() <= m.items() for m in client.messages) for s in subscribed)
        )
        try:
            yield client
        finally:
            client.reader.cancel()


@pytest.fixture
def trading(
    nats_server: NatsServer, pg_server: PostgresServer, nats_prefix: str, tmp_path: Path
) -> Iterator[TradingStack]:
    passwords = nats_server.environment()  # each service's own NATS password
    with trading_stack(pg_server, nats_server.url, nats_prefix, tmp_path, passwords) as running:
        running.wait_ready()
        yield running


async def user(http: httpx.AsyncClient, email: str) -> tuple[dict[str, str], str]:
    """A new user's auth headers and paper account (10,000 USDT on ``sim``)."""
    body = {"email": email, "password": PASSWORD}
    assert (await http.post("/v1/auth/register", json=body)).status_code == 201
    token = (await http.post("/v1/auth/login", json=body)).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    made = await http.post("/v1/accounts", headers=headers, json={"name": f"paper {email[0]}"})
    assert made.status_code == 201, made.text
    return headers, str(made.json()["account_id"])


def buy(account_id: str) -> dict[str, str]:
    return {
        "account_id": account_id,
        "symbol": "BTC/USDT",
        "side": "buy",
        "type": "market",
        "quantity": "0.01",
    }


async def market_buy(http: httpx.AsyncClient, headers: dict[str, str], account_id: str) -> str:
    answer = await http.post("/v1/orders", headers=headers, json=buy(account_id))
    assert answer.is_success and answer.json()["status"] == "new", answer.text
    return str(answer.json()["order_id"])


async def filled(market: Neighbours, ws: Socket, order_id: str) -> None:
    """Trades until the order's ``filled`` update and its fill are on the socket."""
    deadline = time.monotonic() + 30
    while not ("filled" in ws.order_statuses(order_id) and ws.fills_of(order_id)):
        assert time.monotonic() < deadline, ws.messages
        await market.trade("30000", "1")
        await asyncio.sleep(0.1)


async def test_orders_and_fills_reach_their_owner_only(
    trading: TradingStack, nc: Client, nats_prefix: str
) -> None:
    market = Neighbours(nc, Subjects(nats_prefix))
    await market.start()
    try:
        async with httpx.AsyncClient(base_url=trading.gateway_url, timeout=20) as http:
            headers_a, account_a = await user(http, "a@example.com")
            headers_b, account_b = await user(http, "b@example.com")
            token_a = headers_a["Authorization"].removeprefix("Bearer ")
            token_b = headers_b["Authorization"].removeprefix("Bearer ")
            async with socket(trading.ws_url, token_a) as ws_a, socket(trading.ws_url, token_b) as ws_b:
                order_a = await submit_when_priced(market, http, headers_a, account_a)
                await filled(market, ws_a, order_a)
                order_b = await market_buy(http, headers_b, account_b)
                await filled(market, ws_b, order_b)  # B's barrier: past every event of A's order
                later_a = await market_buy(http, headers_a, account_a)
                await filled(market, ws_a, later_a)  # A's barrier: past every event of B's order

        for ws, owner, own in ((ws_a, "a", {order_a, later_a}), (ws_b, "b", {order_b})):
            orders, fills = ws.events("orders"), ws.events("fills")
            assert {e["type"] for e in orders} == {"tradeloom.orders.order_updated.v1"}, owner
            assert {e["type"] for e in fills} == {"tradeloom.orders.fill.v1"}, owner
            assert {e["data"]["order"]["order_id"] for e in orders} == own, owner
            assert {e["data"]["fill"]["order_id"] for e in fills} == own, owner
        assert {"new", "filled"} <= set(ws_a.order_statuses(order_a))
        (fill,) = ws_a.fills_of(order_a)
        assert Decimal(fill["quantity"]) == Decimal("0.01") and Decimal(fill["price"]) == 30000
        assert fill["account_id"] == account_a
    finally:
        await market.stop()


async def submit_when_priced(
    market: Neighbours, http: httpx.AsyncClient, headers: dict[str, str], account_id: str
) -> str:
    """The first market order, once order-router has seen a trade (it needs a last price)."""
    deadline = time.monotonic() + 30
    while True:
        await market.trade("30000", "1")
        answer = await http.post("/v1/orders", headers=headers, json=buy(account_id))
        if answer.is_success:
            assert answer.json()["status"] == "new", answer.text
            return str(answer.json()["order_id"])
        assert answer.status_code == 422 and time.monotonic() < deadline, answer.text
        await asyncio.sleep(0.1)
