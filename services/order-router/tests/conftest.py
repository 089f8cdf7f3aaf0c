"""Fixtures of order-router's tests: the service in-process on a migrated schema, its neighbours
(market-data registry, risk check) as stand-ins over real NATS, and a caller."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from nats.aio.client import Client

from tradeloom.order_router import app
from tradeloom.order_router.credentials import Keyring, new_key
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

sys.path.insert(0, str(Path(__file__).parent))

from or_harness import Caller, Neighbours


@pytest.fixture
async def or_schema(database_url: str, db_schema: str) -> str:
    await migrate_service(app, database_url, db_schema)
    return db_schema


@pytest.fixture
def or_settings(or_schema: str, database_url: str, nats_url: str, nats_prefix: str) -> OrderRouterSettings:
    return OrderRouterSettings(
        database_url=database_url,
        nats_url=nats_url,
        nats_prefix=nats_prefix,
        db_schema=or_schema,
        environment="test",
        health_port=free_port(),
        housekeeping_interval_s=0.2,
        credential_keys=Keyring({1: new_key()}, 1).format(),
    )


@pytest.fixture
async def neighbours(nc: Client, nats_prefix: str) -> AsyncIterator[Neighbours]:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    stand_ins = Neighbours(nc, subjects)
    await stand_ins.start()
    try:
        yield stand_ins
    finally:
        await stand_ins.stop()


@pytest.fixture
async def alice(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client
) -> AsyncIterator[Caller]:
    """order-router running in-process; the caller is user ``alice`` (``.as_user`` for others)."""
    runtime = app.build(or_settings)
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()
