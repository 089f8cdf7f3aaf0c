"""Pooled connections the server closed are replaced on checkout, without a ping per checkout."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.db import create_engine
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def test_a_connection_the_server_closed_is_replaced(
    database_url: str, pg_server: PostgresServer
) -> None:
    engine = create_engine(database_url, pool_size=1)
    try:
        pid = await _backend_pid(engine)
        pg_server.execute(f"SELECT pg_terminate_backend({pid})")
        await asyncio.sleep(0.2)  # the event loop reads the server's goodbye
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()


async def test_a_restart_costs_no_failed_query(database_url: str, pg_server: PostgresServer) -> None:
    engine = create_engine(database_url, pool_size=2)
    try:
        await _backend_pid(engine)
        pg_server.restart()
        await asyncio.sleep(0.2)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


def _count_pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    original = AsyncAdapt_asyncpg_connection.ping

    def counted(self: AsyncAdapt_asyncpg_connection) -> None:
        pings.append(1)
        original(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counted)
    return pings


async def test_a_connection_used_moments_ago_is_not_pinged(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each ping is three round trips (BEGIN, a query, ROLLBACK): only idle connections pay it."""
    statements: list[str] = []
    engine = create_engine(database_url, pool_size=1, idle_ping_s=60.0)
    try:
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        for _ in range(3):
            await _backend_pid(engine)
        pings = _count_pings(monkeypatch)
        await _backend_pid(engine)
        assert pings == [] and statements == ["SELECT pg_backend_pid()"] * 4
    finally:
        await engine.dispose()


async def test_an_idle_connection_is_pinged(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine(database_url, pool_size=1, idle_ping_s=0.0)
    try:
        pid = await _backend_pid(engine)
        pings = _count_pings(monkeypatch)
        assert await _backend_pid(engine) == pid and pings  # idle past 0 s: pinged, alive, kept
    finally:
        await engine.dispose()
