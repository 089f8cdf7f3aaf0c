"""Fixtures: the gateway app in-process (httpx ASGITransport) against real Postgres and NATS."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient

_HERE = str(Path(__file__).parent)
if _HERE not in sys.path:  # --import-mode=importlib: make gateway_testkit importable
    sys.path.insert(0, _HERE)

from gateway_testkit import (  # noqa: E402
    PASSWORD,
    Api,
    ApiFactory,
    ServeFactory,
    build_api,
    make_settings,
    migrated,
)


@pytest_asyncio.fixture
async def make_api(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str, nc: NatsClient
) -> AsyncIterator[ApiFactory]:
    """Build gateway apps (several may share the schema: replicas) with setting overrides."""
    await migrated(database_url, db_schema)
    made: list[Api] = []

    async def factory(client_ip: str = "203.0.113.7", **overrides: Any) -> Api:
        settings = make_settings(database_url, nats_url, db_schema, nats_prefix, **overrides)
        made.append(build_api(settings, nc, client_ip))
        return made[-1]

    yield factory
    for built in made:
        await built.http.aclose()
        await built.engine.dispose()


@pytest_asyncio.fixture
async def api(make_api: ApiFactory) -> Api:
    return await make_api()


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest_asyncio.fixture
async def sandbox(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> AsyncIterator[object]:
    """A real sandbox-executor behind the gateway (see sandbox_backend.py)."""
    from sandbox_backend import sandbox_executor

    async with sandbox_executor(database_url, nats_url, db_schema, nats_prefix) as runtime:
        yield runtime


@pytest.fixture
def serve(database_url: str, nats_url: str, db_schema: str, nats_prefix: str) -> Iterator[ServeFactory]:
    """Start gateways under uvicorn (the services' own server setup) with setting overrides; each
    call returns a base URL. Requests reach them from 127.0.0.1, as through a local proxy."""
    from served import ServedGateway

    asyncio.run(migrated(database_url, db_schema))
    with ExitStack() as stack:

        def factory(**overrides: Any) -> str:
            settings = make_settings(database_url, nats_url, db_schema, nats_prefix, **overrides)
            return stack.enter_context(ServedGateway(settings))

        yield factory
