"""TimescaleDB policies from settings, applied at start when ``trades`` is a hypertable.

Without the extension (plain Postgres) this does nothing: the tables and answers are the same.
"""

from __future__ import annotations

import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

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
