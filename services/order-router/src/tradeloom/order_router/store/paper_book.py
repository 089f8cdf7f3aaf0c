"""What the paper exchange reads and writes per batch of market trades, in one statement each:
the last prices of the batch's symbols and the open paper orders resting on them (or, for a batch
on symbols nobody has an order on, both in one statement outside any transaction).

The open orders come through the partial index ``orders_open_idx`` (venue, symbol, id) of open
orders, so a batch of trades on a symbol nobody has an order on costs one index probe. They are
read without a lock: the matcher locks (and reads again) only an order a trade changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.order_router.domain import states
from tradeloom.order_router.store.orders_store import ORDER_COLUMNS, PAPER_ONLY
from tradeloom.order_router.store.sql import sql
from tradeloom.shared.db import check_schema_name

# the literal list of the partial index's predicate, so the planner can use the index
OPEN_LITERAL = ", ".join(f"'{status}'" for status in sorted(states.OPEN))


class PaperBook:
    def __init__(self, schema: str) -> None:
        self.s = s = check_schema_name(schema)
        # store (venue, symbol, price, ts_ns) unless a newer trade's price is already there
        self._upsert = (
            f'INSERT INTO "{s}".last_prices AS p (venue, symbol, price, ts_ns) '
            "SELECT * FROM unnest(CAST(:venues AS text[]), CAST(:symbols AS text[]), "
            "CAST(:prices AS numeric[]), CAST(:stamps AS bigint[])) "
            "ON CONFLICT (venue, symbol) DO UPDATE SET price = EXCLUDED.price, ts_ns = EXCLUDED.ts_ns "
            "WHERE p.ts_ns <= EXCLUDED.ts_ns"
        )
        # the open paper orders on the batch's venues and symbols (through ``orders_open_idx``)
        self._open = (
            f'FROM "{s}".orders WHERE status IN ({OPEN_LITERAL}) '
            "AND venue = ANY(CAST(:venues AS text[])) AND symbol = ANY(CAST(:symbols AS text[])) "
            f"AND {PAPER_ONLY.format(s=s)}"
        )

    @staticmethod
    def _prices(latest: Iterable[tuple[str, str, Decimal, int]]) -> dict[str, list[Any]]:
        venues, symbols, prices, stamps = (list(column) for column in zip(*latest, strict=True))
        return {"venues": venues, "symbols": symbols, "prices": prices, "stamps": stamps}

    async def set_last_prices(
        self, conn: AsyncConnection, latest: Iterable[tuple[str, str, Decimal, int]]
    ) -> None:
        """Store (venue, symbol, price, ts_ns) unless a newer trade's price is already there."""
        await conn.execute(sql(self._upsert), self._prices(latest))

    async def set_last_prices_if_idle(
        self, conn: AsyncConnection, latest: Iterable[tuple[str, str, Decimal, int]]
    ) -> bool:
        """``set_last_prices`` and whether any open paper order rests on those symbols, in one
        statement (a data-modifying CTE runs whether or not it is read)."""
        statement = (
            f"WITH stored AS ({self._upsert} RETURNING 1) SELECT NOT EXISTS (SELECT 1 {self._open}) AS idle"
        )
        result = await conn.execute(sql(statement), self._prices(latest))
        return bool(result.scalar_one())

    async def resting(
        self, conn: AsyncConnection, keys: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], list[Row[Any]]]:
        """Open paper orders per (venue, symbol) of ``keys``, oldest first (not locked)."""
        wanted = set(keys)
        result = await conn.execute(
            sql(f"SELECT {ORDER_COLUMNS} {self._open} ORDER BY id"),
            {"venues": sorted({v for v, _ in wanted}), "symbols": sorted({s for _, s in wanted})},
        )
        book: dict[tuple[str, str], list[Row[Any]]] = {}
        for row in result.all():
            if (row.venue, row.symbol) in wanted:
                book.setdefault((row.venue, row.symbol), []).append(row)
        return book
