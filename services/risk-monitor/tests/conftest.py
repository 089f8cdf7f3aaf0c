"""Fixtures of risk-monitor's tests: the service in-process on a migrated schema over real NATS and
Postgres, a caller, and a publisher of order-router's events (fills, order updates)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from tradeloom.risk_monitor import app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

sys.path.insert(0, str(Path(__file__).parent))

from rm_harness import RiskCaller, make_caller


@pytest.fixture
async def rm_schema(database_url: str, db_schema: str) -> str:
    await migrate_service(app, database_url, db_schema)
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
        option_quotes_refresh_s=0.2,
        option_quotes_max_age_s=2,
    )


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
