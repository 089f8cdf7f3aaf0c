"""Fixtures of strategy-runner's tests: the service in-process on a migrated schema, and a caller."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client

from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service
from tradeloom.strategy_runner import app
from tradeloom.strategy_runner.settings import StrategyRunnerSettings

# test helpers next to the tests are imported by their module name
sys.path.insert(0, str(Path(__file__).parent))

from bots_harness import SYMBOL, BotsEnv, MakeBotsEnv, Market, approve_risk, trading_stack
from sr_caller import Caller


@pytest.fixture
async def sr_schema(database_url: str, db_schema: str) -> str:
    """``db_schema`` migrated to head with strategy-runner's own Alembic scripts."""
    await migrate_service(app, database_url, db_schema)
    return db_schema


@pytest.fixture
async def alice(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client
) -> AsyncIterator[Caller]:
    """strategy-runner running in-process; the caller is user ``alice`` (``.as_user`` for others)."""
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    settings = StrategyRunnerSettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        db_schema=sr_schema,
        environment="test",
        health_port=free_port(),
        max_versions_per_strategy=20,
    )
    runtime = app.build(settings)
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, subjects), "alice")
    finally:
        await runtime.stop()


@pytest.fixture
def make_bots_env(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, pg_server: Any
) -> MakeBotsEnv:
    """The bots' world with market-data listing ``symbols`` (BTC/USDT by default), as a context:
    ``async with make_bots_env((SYMBOL, ETH)) as env``."""

    @asynccontextmanager
    async def make(symbols: tuple[str, ...] = (SYMBOL,)) -> AsyncIterator[BotsEnv]:
        subjects = Subjects(nats_prefix)
        await ensure_streams(nc.jetstream(), subjects)
        risk = await approve_risk(nc, subjects)
        settings = StrategyRunnerSettings(
            database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=sr_schema,
            environment="test", health_port=free_port(), bot_lease_ttl_s=3, bot_tick_s=0.2,
        )  # fmt: skip
        try:
            async with trading_stack(pg_server, database_url, nats_url, nats_prefix, symbols):
                runtime = app.build(settings)
                await runtime.start()
                client = ServiceClient(nc, subjects)
                try:
                    yield BotsEnv(
                        Caller(client, "alice"), Caller(client, "alice", "order-router"),
                        Market.recent(nc, subjects),
                    )  # fmt: skip
                finally:
                    await runtime.stop()
        finally:
            await risk.unsubscribe()

    return make


@pytest.fixture
async def bots_env(
    make_bots_env: MakeBotsEnv,
) -> AsyncIterator[BotsEnv]:
    """strategy-runner with real market-data (BTC/USDT) and order-router, risk approving."""
    async with make_bots_env() as env:
        yield env
