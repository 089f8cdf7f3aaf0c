"""Without TimescaleDB (this server) trades is a plain table and the policies step is a no-op."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.store.timescale import apply_timescale_policies, trades_is_hypertable
from tradeloom.shared.migrations import timescale_available


async def test_plain_postgres_fallback(md_schema: str, db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as connection:
        assert await timescale_available(connection) is False
        assert await trades_is_hypertable(connection, md_schema) is False
        assert await apply_timescale_policies(connection, md_schema, 7, 30) is False
        kind = await connection.execute(
            text(
                "SELECT c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relname = 'trades'"
            ),
            {"s": md_schema},
        )
        assert kind.scalar_one() == "r"
        key = await connection.execute(
            text(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
                "CAST(:t AS regclass) AND contype = 'p'"
            ),
            {"t": f'"{md_schema}".trades'},
        )
        assert key.scalar_one() == "PRIMARY KEY (venue, symbol, ts_ns, trade_id)"
