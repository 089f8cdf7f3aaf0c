"""The latest order-book snapshot per symbol, written by the book consumer."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.contracts.market_data import BookSnapshot
from tradeloom.shared.db import check_schema_name


async def save_book(connection: AsyncConnection, schema: str, book: BookSnapshot) -> None:
    """Keep the newest snapshot (by ts_ns, then seq); an older redelivery changes nothing."""
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'INSERT INTO "{s}".order_books AS b (venue, symbol, ts_ns, seq, bids, asks) '
            "VALUES (:venue, :symbol, :ts, :seq, CAST(:bids AS jsonb), CAST(:asks AS jsonb)) "
            "ON CONFLICT (venue, symbol) DO UPDATE SET ts_ns = EXCLUDED.ts_ns, seq = EXCLUDED.seq, "
            "bids = EXCLUDED.bids, asks = EXCLUDED.asks "
            "WHERE (EXCLUDED.ts_ns, EXCLUDED.seq) > (b.ts_ns, b.seq)"
        ),
        {
            "venue": book.venue,
            "symbol": book.symbol,
            "ts": book.ts_ns,
            "seq": book.seq,
            "bids": json.dumps([[str(level.price), str(level.amount)] for level in book.bids]),
            "asks": json.dumps([[str(level.price), str(level.amount)] for level in book.asks]),
        },
    )
