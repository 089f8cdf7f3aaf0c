"""Inbox pruning: rows older than the retention go, newer ones stay (real Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.order_router.inbox_pruning import InboxPruner

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


async def test_rows_older_than_the_retention_are_deleted_in_chunks(
    db_engine: AsyncEngine, or_schema: str
) -> None:
    ages_h = [200, 170, 169, 1, 0]  # hours before NOW; the retention is one week (168 h)
    async with db_engine.begin() as conn:
        for n, hours in enumerate(ages_h):
            await conn.execute(
                text(
                    f'INSERT INTO "{or_schema}".inbox (consumer, message_id, subject, received_at) '
                    "VALUES ('order_router_paper', :id, 'md.evt.trade', :at)"
                ),
                {"id": f"m{n}", "at": NOW - timedelta(hours=hours)},
            )
    pruner = InboxPruner(lambda: db_engine, or_schema, retention_s=7 * 86_400, interval_s=1, chunk=2)
    assert await pruner.prune(NOW) == 3  # two chunks: 2 + 1
    assert await pruner.prune(NOW) == 0
    async with db_engine.connect() as conn:
        left = (await conn.execute(text(f'SELECT message_id FROM "{or_schema}".inbox ORDER BY 1'))).scalars()
        assert list(left) == ["m3", "m4"]
