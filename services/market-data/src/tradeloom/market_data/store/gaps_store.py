"""``subscription_gaps``: the gaps a live source detected per (venue, symbol) — a count, the trades
missing by the venue's ids over all of them, and the last gap's span (from the last trade before it
to the first after it), its reason and size. Kept per symbol rather than per ``subscriptions`` row,
so the symbols the settings name have theirs too."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.domain.gaps import Gap
from tradeloom.shared.db import check_schema_name


async def record_gap(connection: AsyncConnection, schema: str, venue: str, gap: Gap) -> None:
    s = check_schema_name(schema)
    await connection.execute(
        text(
            f'INSERT INTO "{s}".subscription_gaps AS g (venue, symbol, gap_count, missing_trades, '
            "last_gap_from_ns, last_gap_to_ns, last_gap_reason, last_gap_missing) "
            "VALUES (:v, :s, 1, :missing, :lo, :hi, :reason, :last_missing) "
            "ON CONFLICT (venue, symbol) DO UPDATE SET gap_count = g.gap_count + 1, "
            "missing_trades = g.missing_trades + EXCLUDED.missing_trades, "
            "last_gap_from_ns = EXCLUDED.last_gap_from_ns, last_gap_to_ns = EXCLUDED.last_gap_to_ns, "
            "last_gap_reason = EXCLUDED.last_gap_reason, last_gap_missing = EXCLUDED.last_gap_missing"
        ),
        {
            "v": venue, "s": gap.symbol, "missing": gap.missing_ids or 0, "lo": gap.last_ts_ns,
            "hi": gap.next_ts_ns, "reason": gap.reason, "last_missing": gap.missing_ids,
        },
    )  # fmt: skip


async def gaps_by_symbol(connection: AsyncConnection, schema: str) -> dict[tuple[str, str], Row[Any]]:
    """(venue, symbol) → its gap row, for every symbol that had one."""
    s = check_schema_name(schema)
    result = await connection.execute(
        text(
            "SELECT venue, symbol, gap_count, missing_trades, last_gap_from_ns, last_gap_to_ns, "
            f'last_gap_reason, last_gap_missing FROM "{s}".subscription_gaps'
        )
    )
    return {(row.venue, row.symbol): row for row in result}
