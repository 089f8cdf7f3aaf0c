"""ServiceRuntime against real servers: readiness follows Postgres, clear start-up errors."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.contracts.system import PingReply, ServiceStarted
from tradeloom.shared.migrations import migrate
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.runtime import ServiceRuntime, StartupError
from tradeloom.shared.streams import STREAMS, ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

MIGRATIONS = Path(__file__).resolve().parents[4] / "services" / "market-data" / "migrations"
SERVICE = "market-data"


def settings_for(database_url: str, nats_url: str, db_schema: str, nats_prefix: str, **extra: Any) -> Any:
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "db_schema": db_schema,
        "nats_prefix": nats_prefix,
        "environment": "test",
        "health_port": free_port(),
        "startup_timeout_s": 5.0,
        **extra,
    }
    return MarketDataSettings(**values)


async def wait_status(http: httpx.AsyncClient, status: int, timeout: float = 15.0) -> dict[str, Any]:
    """Poll /readyz until it answers ``status``; returns the body."""
    last: object = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            response = await http.get("/readyz")
            last = (response.status_code, response.text)
            if response.status_code == status:
                body: dict[str, Any] = response.json()
                return body
        except httpx.HTTPError as error:
            last = error
        await asyncio.sleep(0.05)
    raise AssertionError(f"/readyz never answered {status}; last: {last!r}")


@pytest_asyncio.fixture
async def migrated(database_url: str, db_schema: str) -> str:
    await asyncio.to_thread(migrate, database_url, db_schema, MIGRATIONS)
    return db_schema


@pytest_asyncio.fixture
async def system_stream(nc: NatsClient, nats_prefix: str) -> AsyncIterator[Subjects]:
    subjects = Subjects(nats_prefix)
    system = tuple(spec for spec in STREAMS if spec.name == "SYSTEM")
    await ensure_streams(nc.jetstream(), subjects, streams=system, consumers=())
    yield subjects
    if nc.is_connected:
        await nc.jetstream().delete_stream(subjects.stream("SYSTEM"))


async def test_readiness_follows_a_postgres_restart_without_restarting_the_service(
    pg_server: PostgresServer,
    database_url: str,
    nats_url: str,
    migrated: str,
    nats_prefix: str,
    nc: NatsClient,
    system_stream: Subjects,
) -> None:
    settings = settings_for(database_url, nats_url, migrated, nats_prefix)
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, system_stream)
    stream = system_stream.stream("SYSTEM")
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.health_port}", timeout=5) as http:
            assert (await wait_status(http, 200))["checks"] == {
                "nats": True,
                "database": True,
                "operations": True,
            }
            instance = (await client.call(SERVICE, "ping", None, PingReply)).instance_id

            await asyncio.to_thread(pg_server.stop)
            try:
                body = await wait_status(http, 503)
                assert body == {
                    "ready": False,
                    "checks": {"nats": True, "database": False, "operations": True},
                }
                assert (await http.get("/healthz")).status_code == 200  # alive: not a restart reason
                reply = await client.call(SERVICE, "ping", None, PingReply)  # NATS side still answers
                assert reply.ready is False and reply.instance_id == instance
            finally:
                await asyncio.to_thread(pg_server.start)

            assert (await wait_status(http, 200))["checks"] == {
                "nats": True,
                "database": True,
                "operations": True,
            }
            reply = await client.call(SERVICE, "ping", None, PingReply)
            assert reply.ready is True
            assert reply.instance_id == instance  # the same process, never restarted

        # the outbox relay lived through it: a new event still reaches the stream
        async def stream_messages() -> int:
            return int((await nc.jetstream().stream_info(stream)).state.messages)

        async with asyncio.timeout(10):
            while await stream_messages() < 1:  # the start-up ServiceStarted
                await asyncio.sleep(0.05)
        async with runtime.engine.begin() as connection:
            event = ServiceStarted(
                service=SERVICE, version="0.0.0", instance_id="after-restart", started_at=datetime.now(UTC)
            )
            await runtime.outbox.add(connection, event, SERVICE)
        async with asyncio.timeout(10):
            while await stream_messages() < 2:
                await asyncio.sleep(0.05)
    finally:
        await runtime.stop()


async def test_unmigrated_schema_is_one_clear_error(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    runtime = build(settings_for(database_url, nats_url, db_schema, nats_prefix))
    try:
        with pytest.raises(StartupError) as caught:
            await runtime.start()
    finally:
        await runtime.stop()
    message = str(caught.value)
    assert "\n" not in message
    assert "TL_MARKET_DATA_DB_SCHEMA" in message and "migrate" in message


async def test_unreachable_nats_is_one_clear_error(
    database_url: str, db_schema: str, nats_prefix: str
) -> None:
    dead = f"nats://127.0.0.1:{free_port()}"
    runtime = build(settings_for(database_url, dead, db_schema, nats_prefix, startup_timeout_s=0.5))
    try:
        with pytest.raises(StartupError) as caught:
            await runtime.start()
    finally:
        await runtime.stop()
    assert "TL_MARKET_DATA_NATS_URL" in str(caught.value) and dead in str(caught.value)


async def test_unreachable_postgres_is_one_clear_error_without_the_password(
    nats_url: str, db_schema: str, nats_prefix: str
) -> None:
    dead = f"postgresql+asyncpg://svc:hunter2-pw@127.0.0.1:{free_port()}/tradeloom"
    runtime: ServiceRuntime = build(
        settings_for(dead, nats_url, db_schema, nats_prefix, startup_timeout_s=0.5)
    )
    try:
        with pytest.raises(StartupError) as caught:
            await runtime.start()
    finally:
        await runtime.stop()
    message = str(caught.value)
    assert "TL_MARKET_DATA_DATABASE_URL" in message and "127.0.0.1" in message
    assert "hunter2" not in message


async def test_busy_health_port_is_one_clear_error(
    database_url: str, nats_url: str, migrated: str, nats_prefix: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        runtime = build(settings_for(database_url, nats_url, migrated, nats_prefix, health_port=port))
        try:
            with pytest.raises(StartupError) as caught:
                await runtime.start()
        finally:
            await runtime.stop()
    assert "TL_MARKET_DATA_HEALTH_PORT" in str(caught.value)
