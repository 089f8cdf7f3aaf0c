"""Async SQLAlchemy 2 engine factory (asyncpg) and small database helpers."""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from tradeloom.shared.db_liveness import watch_liveness

_SCHEMA = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    """Schema names are interpolated into DDL, so only plain lower-case identifiers are allowed."""
    if not _SCHEMA.fullmatch(schema):  # fullmatch: "$" would accept a trailing newline
        raise ValueError(f"invalid schema name {schema!r}")
    return schema


def asyncpg_url(url: str) -> str:
    """Any postgres URL as a ``postgresql+asyncpg://`` SQLAlchemy URL."""
    scheme, _, rest = url.partition("://")
    return url if scheme == "postgresql+asyncpg" else f"postgresql+asyncpg://{rest}"


def libpq_url(url: str) -> str:
    """Any postgres URL as a plain ``postgresql://`` URL (for asyncpg.connect)."""
    _, _, rest = url.partition("://")
    return f"postgresql://{rest}"


SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


def split_ssl(url: str) -> tuple[str, ssl.SSLContext | str | None]:
    """The URL without libpq's ``sslmode``/``sslrootcert``, and the ``ssl`` argument asyncpg takes.

    SQLAlchemy hands URL query parameters to ``asyncpg.connect`` as keywords, which has no
    ``sslmode``; so ``verify-full`` becomes a context checking the CA (``sslrootcert``) and the host
    name, ``verify-ca`` one checking the CA only, and the weaker modes are passed through by name.
    """
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    mode = query.pop("sslmode", None)
    root_cert = query.pop("sslrootcert", None)
    stripped = urlunsplit(parts._replace(query=urlencode(query)))
    if mode is None:
        return stripped, None
    if mode not in SSL_MODES:
        raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}, got {mode!r}")
    if mode in ("verify-ca", "verify-full"):
        context = ssl.create_default_context(cafile=root_cert)
        context.check_hostname = mode == "verify-full"
        return stripped, context
    return stripped, mode


def create_engine(
    url: str,
    *,
    application_name: str = "tradeloom",
    pool_size: int = 5,
    pooled: bool = True,
    connect_timeout_s: float = 5.0,
    idle_ping_s: float = 10.0,
) -> AsyncEngine:
    """An engine that survives a Postgres restart: a connection the server closed, or one idle for
    longer than ``idle_ping_s`` that fails a ping, is replaced on checkout (``db_liveness``)."""
    url, ssl_arg = split_ssl(url)
    connect_args: dict[str, Any] = {
        "server_settings": {"application_name": application_name},
        "timeout": connect_timeout_s,
        "command_timeout": 60,
    }
    if ssl_arg is not None:
        connect_args["ssl"] = ssl_arg
    if not pooled:
        return create_async_engine(asyncpg_url(url), poolclass=NullPool, connect_args=connect_args)
    engine = create_async_engine(
        asyncpg_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_recycle=1800,
        pool_timeout=5,
        connect_args=connect_args,
    )
    watch_liveness(engine, idle_ping_s=idle_ping_s)
    return engine


async def ping(engine: AsyncEngine, timeout_s: float = 1.0) -> bool:
    """True when ``SELECT 1`` answers within ``timeout_s``."""
    try:
        async with asyncio.timeout(timeout_s):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        return True
    except Exception:  # any failure means "not ready"; the reason is logged by the caller's loop
        return False


def connection_lost(error: BaseException | None) -> bool:
    """The database connection failed or the server is going away (retry later), not a bad query:
    an invalidated connection, an OS error, SQLSTATE class 08 (connection exception) or 57P
    (shutting down, cannot connect now), anywhere in the exception chain."""
    while error is not None:
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return True
        code = str(getattr(error, "sqlstate", "") or getattr(error, "pgcode", "") or "")
        if isinstance(error, OSError) or code.startswith(("08", "57P")):
            return True
        error = error.orig if isinstance(error, DBAPIError) else error.__cause__
    return False
