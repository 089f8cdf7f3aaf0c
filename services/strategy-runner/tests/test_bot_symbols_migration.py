"""Migration 0014 (a bot's symbols): existing bots are backfilled from ``bots.symbol`` with their
last bar, every new ``bots`` row gets its first symbol's row from the trigger (grid and DCA bots
insert their own rows), and the downgrade drops it all (real Postgres)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.migrations import downgrade, find_migrations, migrate
from tradeloom.strategy_runner import app

SCRIPTS = find_migrations(app.__file__ or "")


def _insert(s: str, bot_id: uuid.UUID, symbol: str, last_bar_ns: int | None) -> str:
    return (
        f'INSERT INTO "{s}".bots (id, user_id, name, strategy_id, strategy_version, template, params, '
        "account_id, venue, symbol, timeframe, sizing, max_position, last_bar_ns) VALUES "
        f"('{bot_id}', 'alice', 'b', '{uuid.uuid4()}', 1, 'sma_cross', '{{}}', 'acc', 'sim', "
        f"'{symbol}', '1m', '{{}}', 1, {'NULL' if last_bar_ns is None else last_bar_ns})"
    )


async def test_existing_bots_are_backfilled_and_new_ones_get_their_first_symbol(
    database_url: str, db_schema: str, db_engine: AsyncEngine
) -> None:
    s = db_schema
    await asyncio.to_thread(migrate, database_url, s, SCRIPTS, "0013")
    old = uuid.uuid4()
    async with db_engine.begin() as conn:
        await conn.execute(text(_insert(s, old, "BTC/USDT", 42)))
    await asyncio.to_thread(migrate, database_url, s, SCRIPTS, "head")
    new = uuid.uuid4()
    async with db_engine.begin() as conn:
        await conn.execute(text(_insert(s, new, "ETH/USDT", None)))
        rows = await conn.execute(text(f'SELECT bot_id, symbol, ord, last_bar_ns FROM "{s}".bot_symbols'))
        assert sorted(rows, key=lambda r: r.symbol) == [(old, "BTC/USDT", 0, 42), (new, "ETH/USDT", 0, None)]
        await conn.execute(text(f"DELETE FROM \"{s}\".bots WHERE id = '{new}'"))
        assert (await conn.execute(text(f'SELECT count(*) FROM "{s}".bot_symbols'))).scalar() == 1
    await asyncio.to_thread(downgrade, database_url, s, SCRIPTS, "0013")
    async with db_engine.begin() as conn:
        gone = await conn.execute(text(f"SELECT to_regclass('\"{s}\".bot_symbols')"))
        assert gone.scalar() is None
        await conn.execute(text(_insert(s, uuid.uuid4(), "BTC/USDT", None)))  # no trigger left
