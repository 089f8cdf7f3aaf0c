"""A cheap liveness check of pooled connections, in place of SQLAlchemy's ``pool_pre_ping``.

``pool_pre_ping`` with asyncpg costs three round trips on *every* checkout (the dialect wraps its
``SELECT`` in ``BEGIN`` … ``ROLLBACK`` for pgbouncer's transaction mode): on a busy service that is
most of a transaction's cost again (order-router checks out 4-5 connections per order; the
gateway one per audited request). A restarted or dead server is still caught without them:

- a connection the server closed (a Postgres restart or shutdown sends an error and closes the
  socket) is marked closed by asyncpg as soon as the event loop reads that: seen here for free;
- a connection idle in the pool for longer than ``idle_ping_s`` (where a half-open socket could
  hide) gets the full ping first, as ``pool_pre_ping`` would.

Either failure raises ``DisconnectionError``, on which the pool drops the connection and checks
out a fresh one (SQLAlchemy's documented "pessimistic disconnect handling" with a custom check).
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

_CHECKED_IN = "tl_checked_in"


def watch_liveness(engine: AsyncEngine, *, idle_ping_s: float) -> None:
    """Check each connection on checkout: closed → replaced; idle longer than ``idle_ping_s`` → pinged."""

    def on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: PoolProxiedConnection) -> None:
        raw = getattr(dbapi_connection, "_connection", None)  # the asyncpg connection under the adapter
        if raw is not None and raw.is_closed():
            raise DisconnectionError("the server closed this pooled connection")
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in <= idle_ping_s:
            return  # new (just connected), or recently used: it answered moments ago
        try:
            dbapi_connection.ping()
        except Exception as error:  # any failure of the ping means the connection is unusable
            raise DisconnectionError(
                f"a pooled connection idle for a while failed its ping: {error}"
            ) from error

    event.listen(engine.sync_engine, "checkin", on_checkin)
    event.listen(engine.sync_engine, "checkout", on_checkout)
