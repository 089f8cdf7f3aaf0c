"""Fixtures of analytics's tests: the service in-process on a migrated schema over real NATS and
Postgres, and a stand-in publisher of order-router's and market-data's events."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from tradeloom.analytics import app
from tradeloom.analytics.settings import AnalyticsSettings
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

sys.path.insert(0, str(Path(__file__).parent))

from an_harness import Market


@pytest.fixture
async def an_schema(database_url: str, db_schema: str) -> str:
    await migrate_service(app, database_url, db_schema)
    return db_schema


@pytest.fixture
def an_settings(an_schema: str, database_url: str, nats_url: str, nats_prefix: str) -> AnalyticsSettings:
    return AnalyticsSettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        db_schema=an_schema,
        environment="test",
        health_port=free_port(),
        roll_interval_s=0.2,
        option_mark_interval_s=0.2,
    )


@pytest.fixture
def market(nc: Client, streams: Subjects) -> Market:
    return Market(nc, streams)


@pytest.fixture
async def analytics(an_settings: AnalyticsSettings, streams: Subjects) -> AsyncIterator[ServiceRuntime]:
    """analytics running in-process."""
    runtime = app.build(an_settings)
    await runtime.start()
    try:
        yield runtime
    finally:
        await runtime.stop()
