"""TimescaleDB policies and candle continuous aggregates, applied at start when ``trades`` is a
hypertable (the guards), and the check the candles query uses to pick its source.

Without the extension (plain Postgres) this does nothing: the tables and answers are the same.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.store.candle_aggregates import (
    BASE_TIMEFRAME,
    CAGG_TIMEFRAMES,
    MIN_TIMESCALE_VERSION,
    candle_aggregates_ddl,
    view_name,
)
from tradeloom.shared.db import check_schema_name

log = logging.getLogger(__name__)
DAY_NS = 86_400 * 1_000_000_000


async def trades_is_hypertable(connection: AsyncConnection, schema: str) -> bool:
    installed = await connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"))
    if installed.first() is None:
        return False
    found = await connection.execute(
        text(
            "SELECT 1 FROM timescaledb_information.hypertables "
            "WHERE hypertable_schema = :s AND hypertable_name = 'trades'"
        ),
        {"s": check_schema_name(schema)},
    )
    return found.first() is not None


async def apply_timescale_policies(
    connection: AsyncConnection, schema: str, compress_after_days: int, retention_days: int | None
) -> bool:
    """Compression (segmented by venue, symbol) and optional retention; False on plain Postgres."""
    s = check_schema_name(schema)
    if not await trades_is_hypertable(connection, s):
        return False
    table = f'"{s}".trades'
    await connection.execute(
        text(
            f"ALTER TABLE {table} SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'venue, symbol', timescaledb.compress_orderby = 'ts_ns')"
        )
    )
    await connection.execute(
        text(
            f"SELECT add_compression_policy('{table}', {compress_after_days * DAY_NS}::bigint, "
            "if_not_exists => true)"
        )
    )
    if retention_days is not None:
        await connection.execute(
            text(
                f"SELECT add_retention_policy('{table}', {retention_days * DAY_NS}::bigint, "
                "if_not_exists => true)"
            )
        )
    log.info(
        "timescale policies on %s: compress after %sd, retention %s",
        table,
        compress_after_days,
        retention_days,
    )
    return True


def parse_version(text_version: str) -> tuple[int, int]:
    """``'2.15.1'`` → ``(2, 15)``; anything unreadable → ``(0, 0)`` (too old)."""
    parts = text_version.split(".")
    try:
        return int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        return 0, 0


async def timescale_version(connection: AsyncConnection) -> tuple[int, int] | None:
    found = await connection.execute(
        text("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")
    )
    version = found.scalar_one_or_none()
    return None if version is None else parse_version(str(version))


async def ensure_candle_aggregates(
    connection: AsyncConnection, schema: str, *, lookback_s: int, every_s: int
) -> bool:
    """Create the candle continuous aggregates and their refresh policies when TimescaleDB
    (≥ 2.15) is installed and ``trades`` is a hypertable; False otherwise, and the service's own
    roll-up stays the only source of coarse candles.

    A failure (an older or changed TimescaleDB refusing the DDL) is rolled back to a savepoint
    and logged: the service keeps running on the roll-up, never half-built views."""
    s = check_schema_name(schema)
    if not await trades_is_hypertable(connection, s):
        return False
    version = await timescale_version(connection)
    if version is None or version < MIN_TIMESCALE_VERSION:
        log.warning(
            "timescaledb %s < %s: candle continuous aggregates not built", version, MIN_TIMESCALE_VERSION
        )
        return False
    await connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"{s}.candle_caggs"})
    try:
        async with connection.begin_nested():
            for statement in candle_aggregates_ddl(s, lookback_s=lookback_s, every_s=every_s):
                await connection.execute(text(statement))
    except DBAPIError as error:
        log.warning("candle continuous aggregates not built, using the roll-up: %s", error)
        return False
    log.info("candle continuous aggregates ready in %s: %s", s, ", ".join(CAGG_TIMEFRAMES))
    return True


async def candle_views(connection: AsyncConnection, schema: str) -> dict[str, str]:
    """Timeframe → continuous aggregate to read coarse candles from; empty (read the roll-up's
    ``candles`` rows) unless every view of the chain exists as a continuous aggregate."""
    s = check_schema_name(schema)
    installed = await connection.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'"))
    if installed.first() is None:
        return {}
    found = await connection.execute(
        text(
            "SELECT view_name FROM timescaledb_information.continuous_aggregates "
            "WHERE view_schema = :s AND view_name = ANY(:names)"
        ),
        {"s": s, "names": [view_name(tf) for tf in CAGG_TIMEFRAMES]},
    )
    if len(set(found.scalars().all())) != len(CAGG_TIMEFRAMES):
        return {}
    return {tf: view_name(tf) for tf in CAGG_TIMEFRAMES if tf != BASE_TIMEFRAME}
