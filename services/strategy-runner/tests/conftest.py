"""Fixtures of strategy-runner's tests: the service in-process on a migrated schema, and a caller."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.strategy_runner import app
from tradeloom.strategy_runner.settings import StrategyRunnerSettings

# test helpers next to the tests are imported by their module name
sys.path.insert(0, str(Path(__file__).parent))

from sr_caller import Caller


@pytest.fixture
async def sr_schema(database_url: str, db_schema: str) -> str:
    """``db_schema`` migrated to head with strategy-runner's own Alembic scripts."""
    migrations = find_migrations(sys.modules[app.__name__].__file__ or "")
    await asyncio.to_thread(migrate, database_url, db_schema, migrations)
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
