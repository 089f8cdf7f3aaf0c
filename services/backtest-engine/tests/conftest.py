"""Fixtures of backtest-engine's tests: a migrated schema, an in-process service, market-data.

``market`` is the real market-data service fed through its own ingest (``real_market.py``).
``gated_market`` is a NATS responder (``tradeloom.shared.rpc.serve``) answering
``svc.market-data.candles_packed`` from a deterministic random walk only once its gate opens, for
the tests that must hold a worker mid-run; everything else (NATS, JetStream, Postgres) is real.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import nats
import numpy as np
import pytest
from nats.aio.client import Client
from nats.micro.service import Service
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.backtest_engine import app
from tradeloom.backtest_engine.settings import BacktestEngineSettings
from tradeloom.backtest_engine.worker import RUNS_CONSUMER
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_columns import CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import CandlesPackedHeader
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.errors import NotFound
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.rpc import Operation, RawReply, ServiceClient, serve
from tradeloom.shared.streams import ConsumerSpec, ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled, eventually
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

# test helpers next to the tests are imported by their module name
sys.path.insert(0, str(Path(__file__).parent))
from fake_candles import packed_page
from real_market import RealMarketData, real_market_data

HOUR_NS = 3_600 * 1_000_000_000
START_NS = 1_704_067_200 * 1_000_000_000  # 2024-01-01T00:00:00Z
# A short ack_wait so a dead worker's run is redelivered within seconds in tests.
TEST_RUNS_CONSUMER = dataclasses.replace(RUNS_CONSUMER, backoff_s=(2.0, 2.0, 2.0, 2.0))


def random_walk(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Hourly OHLCV bars; prices rounded to cents so the decimal strings are exact."""
    rng = np.random.default_rng(seed)
    close = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    open_ = np.round(np.concatenate([[100.0], close[:-1]]) * (1 + rng.normal(0, 0.001, n)), 2)
    high = np.round(np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, n))), 2)
    low = np.round(np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, n))), 2)
    volume = np.round(rng.uniform(1, 100, n), 3)
    time = START_NS + np.arange(n, dtype=np.int64) * HOUR_NS
    return {"time": time, "open": open_, "high": high, "low": low, "close": close, "volume": volume}


class FakeMarketData:
    """``svc.market-data.candles_packed`` over real NATS, paged by ``open_ns`` cursors like the real one."""

    def __init__(self, bars: dict[str, np.ndarray], symbol: str = "BTC/USDT"):
        self.bars = bars
        self.symbol = symbol
        self.calls = 0
        self.gate: asyncio.Event | None = None  # when set to an Event, requests wait for it

    async def candles_packed_op(self, _: CallerContext, body: CandleColumnsRequest) -> RawReply:
        self.calls += 1
        if body.symbol != self.symbol:
            raise NotFound(f"unknown symbol {body.symbol} on venue sim", details={"symbol": body.symbol})
        if self.gate is not None:
            await self.gate.wait()
        return packed_page(self.bars, body)

    async def start(self, nc: Client, subjects: Subjects) -> Service:
        op = Operation("candles_packed", CandleColumnsRequest, CandlesPackedHeader, self.candles_packed_op)
        return await serve(nc, service="market-data", version="0.0.0", subjects=subjects, operations=[op])


class EventWatcher:
    """Collects every ``backtest.evt.*`` envelope of the namespace (core NATS subscription)."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self._changed = asyncio.Event()

    async def on_message(self, message: Any) -> None:
        self.envelopes.append(Envelope.from_bytes(message.data))
        self._changed.set()

    def of(self, backtest_id: str, name: str | None = None) -> list[Envelope]:
        return [
            e
            for e in self.envelopes
            if e.data.get("backtest_id") == backtest_id and (name is None or e.type.split(".")[2] == name)
        ]

    async def wait_for(self, backtest_id: str, name: str, timeout_s: float = 90.0) -> Envelope:
        # 90 s: the first backtest of a fresh checkout compiles the simulator (~21 s on a quiet box)
        async def until() -> Envelope:
            while True:
                found = self.of(backtest_id, name)
                if found:
                    return found[0]
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(until(), timeout_s)


@dataclasses.dataclass
class Harness:
    nc: Client
    subjects: Subjects
    events: EventWatcher
    settings: Callable[..., BacktestEngineSettings]
    start_service: Callable[..., Awaitable[app.Parts]]
    engine: AsyncEngine
    schema: str

    async def settled(self, timeout_s: float = 30.0) -> None:
        """Wait until every run command is acked and every event relayed: from then on nothing more
        can happen (the positive barrier before asserting that something did not)."""
        stream = self.subjects.stream(RUNS_CONSUMER.stream)

        async def quiet() -> bool:
            async with self.engine.connect() as conn:
                unsent = await conn.scalar(
                    text(f'SELECT count(*) FROM "{self.schema}".outbox WHERE published_at IS NULL')
                )
            return unsent == 0 and await consumer_settled(self.nc.jetstream(), stream, RUNS_CONSUMER.durable)

        await eventually(quiet, "run commands acked and events relayed", timeout=timeout_s)

    @staticmethod
    def body(**overrides: Any) -> dict[str, Any]:
        """A valid submit request (SMA 5/20 cross on the fake's BTC/USDT, 0.1 % commission)."""
        body: dict[str, Any] = {
            "strategy": "sma_cross",
            "params": {"fast": 5, "slow": 20},
            "symbol": "BTC/USDT",
            "timeframe": "1h",
            "start": "2024-01-01T00:00:00Z",
            "end": "2024-02-01T00:00:00Z",
            "initial_cash": "10000",
            "costs": {"commission_model": "percent", "taker_rate": "0.001", "maker_rate": "0.001"},
        }
        return body | overrides

    async def submit(self, user: str = "alice", **overrides: Any) -> str:
        reply = await self.call("submit", self.body(**overrides), user=user)
        assert reply["status"] == "queued"
        return str(reply["backtest_id"])

    def client(self) -> ServiceClient:
        return ServiceClient(self.nc, self.subjects)

    async def call(self, op: str, body: dict[str, Any], user: str | None = "alice") -> dict[str, Any]:
        return await self.client().call_raw(
            "backtest-engine", op, body, caller=CallerContext(user_id=user), timeout_s=10
        )


@pytest.fixture
async def bt_schema(database_url: str, db_schema: str) -> str:
    await migrate_service(app, database_url, db_schema)
    return db_schema


@pytest.fixture
async def harness(
    database_url: str, nats_url: str, nats_prefix: str, bt_schema: str, db_engine: AsyncEngine
) -> AsyncIterator[Harness]:
    """Streams ensured, the fake market-data serving 600 hourly bars, an event watcher; services
    started with ``start_service()`` are stopped at the end."""
    subjects = Subjects(nats_prefix)
    nc = await nats.connect(nats_url, **admin_options())
    await ensure_streams(nc.jetstream(), subjects)
    events = EventWatcher()
    await nc.subscribe(subjects.event_filter("backtest"), cb=events.on_message)
    running: list[app.Parts] = []

    def settings(**overrides: Any) -> BacktestEngineSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "nats_url": nats_url,
            "nats_prefix": nats_prefix,
            "db_schema": bt_schema,
            "environment": "test",
            "health_port": free_port(),
        }
        return BacktestEngineSettings(**(values | overrides))

    async def start_service(runs_consumer: ConsumerSpec = TEST_RUNS_CONSUMER, **overrides: Any) -> app.Parts:
        parts = app.build_parts(settings(**overrides), runs_consumer)
        await parts.runtime.start()
        running.append(parts)
        return parts

    try:
        yield Harness(nc, subjects, events, settings, start_service, db_engine, bt_schema)
    finally:
        for parts in running:
            await parts.runtime.stop()
        await nc.close()


@pytest.fixture
async def market(
    harness: Harness, pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, tmp_path: Path
) -> AsyncIterator[RealMarketData]:
    """The real market-data service serving 600 hourly bars of ``BTC/USDT`` on venue ``sim``."""
    async with real_market_data(
        harness.nc, pg_server, database_url, nats_url, nats_prefix, random_walk(600), tmp_path
    ) as real:
        yield real


@pytest.fixture
async def gated_market(harness: Harness) -> AsyncIterator[FakeMarketData]:
    """A stand-in answering candle requests only once its ``gate`` opens: for tests that must hold
    a worker mid-run (cancel, kill -9), which the real service cannot be made to do."""
    fake = FakeMarketData(random_walk(600))
    fake.gate = asyncio.Event()
    service = await fake.start(harness.nc, harness.subjects)
    try:
        yield fake
    finally:
        fake.gate.set()
        await service.stop()


@pytest.fixture
def make_walk() -> Callable[..., dict[str, np.ndarray]]:
    """``random_walk`` for test modules (conftest is not importable under --import-mode=importlib)."""
    return random_walk


@pytest.fixture
async def start_market(harness: Harness) -> AsyncIterator[Callable[[], Awaitable[FakeMarketData]]]:
    """Start the fake market-data later in a test (e.g. after a run found it missing)."""
    services: list[Service] = []

    async def start() -> FakeMarketData:
        fake = FakeMarketData(random_walk(600))
        services.append(await fake.start(harness.nc, harness.subjects))
        return fake

    try:
        yield start
    finally:
        for service in services:
            await service.stop()
