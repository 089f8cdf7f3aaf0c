"""Helpers of the WebSocket/SSE tests: a served gateway, users, events published on real JetStream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from gateway_testkit import PASSWORD, make_settings, migrated
from nats.aio.client import Client as NatsClient
from served import ServedGateway
from websockets.asyncio.client import ClientConnection, connect

from tradeloom.shared.contracts.backtest import BacktestCompleted, BacktestProgress
from tradeloom.shared.contracts.market_data import TradesIngested, TradeTick
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects, symbol_token


@asynccontextmanager
async def served_gateway(
    database_url: str, nats_url: str, schema: str, prefix: str, nc: NatsClient, **overrides: Any
) -> AsyncIterator[str]:
    await migrated(database_url, schema)
    await ensure_streams(nc.jetstream(), Subjects(prefix))
    settings = make_settings(database_url, nats_url, schema, prefix, **overrides)
    with ServedGateway(settings) as base_url:
        yield base_url


async def new_user(base_url: str, email: str) -> tuple[str, str]:
    """(user id, access token) of a fresh user."""
    async with httpx.AsyncClient(base_url=base_url) as http:
        made = await http.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
        tokens = (await http.post("/v1/auth/login", json={"email": email, "password": PASSWORD})).json()
    return str(made.json()["id"]), str(tokens["access_token"])


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/v1/ws"


async def open_socket(base_url: str, token: str, **options: Any) -> ClientConnection:
    """Connected and authenticated with the first message; the welcome already read."""
    ws = await connect(ws_url(base_url), **options)
    await ws.send(json.dumps({"op": "auth", "token": token}))
    welcome = await receive(ws)
    assert welcome["type"] == "welcome", welcome
    return ws


async def receive(ws: ClientConnection, kind: str | None = None, timeout_s: float = 5) -> dict[str, Any]:
    """The next message (of type ``kind``: others, e.g. heartbeats, are skipped)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
        if kind is None or message["type"] == kind:
            return dict(message)


async def subscribe(
    ws: ClientConnection, channel: str, after_seq: int | dict[str, int] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"op": "subscribe", "channel": channel}
    if after_seq is not None:
        body["after_seq"] = after_seq
    await ws.send(json.dumps(body))
    while True:
        reply = await receive(ws)
        if reply["type"] in ("subscribed", "error"):
            return reply


async def publish_trades(nc: NatsClient, prefix: str, symbol: str, first_id: int, count: int = 1) -> int:
    """A TradesIngested batch on ``md.evt.trade.v1.sim.<SYMBOL>``; returns its stream sequence."""
    trades = [
        TradeTick(trade_id=str(first_id + i), ts_ns=1_700_000_000_000_000_000 + i, price=Decimal("100.5"),
                  amount=Decimal("0.25"), side="buy")
        for i in range(count)
    ]  # fmt: skip
    event = TradesIngested(venue="sim", symbol=symbol, trades=trades)
    publisher = EventPublisher(nc.jetstream(), Subjects(prefix), "tradeloom/market-data")
    _, ack = await publisher.publish(event, "sim", symbol_token(symbol))
    return int(ack.seq)


async def publish_backtest(
    nc: NatsClient, prefix: str, backtest_id: str, user_id: str, percent: float
) -> int:
    event = BacktestProgress(
        backtest_id=backtest_id, user_id=user_id, phase="simulating", percent=percent, at=datetime.now(UTC)
    )
    publisher = EventPublisher(nc.jetstream(), Subjects(prefix), "tradeloom/backtest-engine")
    _, ack = await publisher.publish(event, backtest_id)
    return int(ack.seq)


async def publish_completed(nc: NatsClient, prefix: str, backtest_id: str, user_id: str) -> int:
    event = BacktestCompleted(
        backtest_id=backtest_id, user_id=user_id, bar_count=10, trade_count=2, final_equity=Decimal("1010.5"),
        finished_at=datetime.now(UTC),
    )  # fmt: skip
    publisher = EventPublisher(nc.jetstream(), Subjects(prefix), "tradeloom/backtest-engine")
    _, ack = await publisher.publish(event, backtest_id)
    return int(ack.seq)


async def publish_raw(nc: NatsClient, prefix: str, domain: str, name: str, data: dict[str, Any]) -> int:
    """An event of a domain without contracts yet (orders, risk): only the envelope's shape matters."""
    envelope = Envelope(
        id=new_event_id(), source=f"tradeloom/{domain}", type=f"tradeloom.{domain}.{name}.v1",
        time=datetime.now(UTC), dataschema=f"https://tradeloom.dev/schemas/{domain}.{name}.v1", data=data,
    )  # fmt: skip
    subject = Subjects(prefix).event(domain, name, 1, str(data.get("user_id", "anyone")))
    ack = await nc.jetstream().publish(subject, envelope.to_bytes())
    return int(ack.seq)
