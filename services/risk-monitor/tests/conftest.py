"""Fixtures of risk-monitor's tests: the service in-process on a migrated schema over real NATS and
Postgres, a caller, and a publisher of order-router's events (fills, order updates)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from tradeloom.risk_monitor import app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port

sys.path.insert(0, str(Path(__file__).parent))

from rm_harness import RiskCaller, make_caller


@pytest.fixture
async def rm_schema(database_url: str, db_schema: str) -> str:
    migrations = find_migrations(sys.modules[app.__name__].__file__ or "")
    await asyncio.to_thread(migrate, database_url, db_schema, migrations)
    return db_schema


@pytest.fixture
def rm_settings(rm_schema: str, database_url: str, nats_url: str, nats_prefix: str) -> RiskMonitorSettings:
    return RiskMonitorSettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        db_schema=rm_schema,
        environment="test",
        health_port=free_port(),
        cache_refresh_s=0.5,
        mark_interval_s=0.2,
        eod_interval_s=0.3,
    )


@pytest.fixture
async def streams(nc: Client, nats_prefix: str) -> Subjects:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    return subjects


@pytest.fixture
async def risk(rm_settings: RiskMonitorSettings, streams: Subjects, nc: Client) -> AsyncIterator[RiskCaller]:
    """risk-monitor running in-process; the caller is user ``alice`` (``.as_user`` for others)."""
    runtime = app.build(rm_settings)
    await runtime.start()
    try:
        caller = make_caller(nc, streams, "alice")
        caller.runtime = runtime
        yield caller
    finally:
        await runtime.stop()
