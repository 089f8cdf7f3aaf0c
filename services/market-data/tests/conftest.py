"""Fixtures of market-data's tests: a migrated schema and a helper to build settings."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tradeloom.market_data import app
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

# test helpers next to the tests (the Binance stand-in) are imported by their module name
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
async def md_schema(database_url: str, db_schema: str) -> str:
    """``db_schema`` migrated to head with market-data's own Alembic scripts."""
    await migrate_service(app, database_url, db_schema)
    return db_schema


@pytest.fixture
def md_settings(database_url: str, nats_url: str, nats_prefix: str) -> Callable[..., MarketDataSettings]:
    """Settings for an in-process service; the synthetic source is off unless symbols are given."""

    def make(schema: str, **overrides: Any) -> MarketDataSettings:
        values: dict[str, Any] = {
            "database_url": database_url,
            "nats_url": nats_url,
            "nats_prefix": nats_prefix,
            "db_schema": schema,
            "environment": "test",
            "health_port": free_port(),
            "sim_symbols": [],
            "candle_tolerance_s": 0,
        }
        values.update(overrides)
        return MarketDataSettings(**values)

    return make
