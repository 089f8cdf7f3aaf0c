"""The last stored trade per symbol of a venue: where a restarted live source resumes gap checks, and
where a restarted synthetic market resumes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name


async def last_stored_trades(
    connection: AsyncConnection, schema: str, venue: str, symbols: list[str]
) -> dict[str, tuple[str, int]]:
    """symbol → (trade id, ts_ns) of its newest stored trade; symbols with none are left out.

    Newest by time, then by id: as a number where ids are digits (a longer digit string is a larger
    number; venue trades in the same millisecond order by their sequence), else as text, the order
    ``domain.gaps.is_newer`` uses. One backward
    scan of the ``(venue, symbol, ts_ns, trade_id)`` key per symbol.
    """
    s = check_schema_name(schema)
    if not symbols:
        return {}
    result = await connection.execute(
        text(
            "SELECT s.symbol, t.trade_id, t.ts_ns FROM unnest(CAST(:symbols AS text[])) AS s(symbol) "
            "CROSS JOIN LATERAL ("
            f'  SELECT trade_id, ts_ns FROM "{s}".trades '
            "  WHERE venue = :venue AND symbol = s.symbol "
            "  ORDER BY ts_ns DESC, CASE WHEN trade_id ~ '^[0-9]+$' THEN length(trade_id) ELSE 0 END DESC, "
            "  trade_id DESC LIMIT 1"
            ") AS t"
        ),
        {"venue": venue, "symbols": symbols},
    )
    return {symbol: (trade_id, int(ts_ns)) for symbol, trade_id, ts_ns in result.all()}


@dataclass(frozen=True)
class MarketResume:
    """Where a restarted synthetic market picks up: each symbol's last stored price (not its seed
    price), and the newest stored trade's time, which its clock never goes back behind (a fast,
    backdated market restarted from its backdate would trade in the past: duplicate candle times,
    and fills older than the ones risk-monitor already folded)."""

    prices: dict[str, Decimal]
    after_ns: int | None


async def synthetic_resume(
    connection: AsyncConnection, schema: str, venue: str, symbols: list[str]
) -> MarketResume:
    """Each symbol's newest stored trade (by time): its price, and the newest time of them all."""
    s = check_schema_name(schema)
    if not symbols:
        return MarketResume({}, None)
    result = await connection.execute(
        text(
            "SELECT s.symbol, t.price, t.ts_ns FROM unnest(CAST(:symbols AS text[])) AS s(symbol) "
            "CROSS JOIN LATERAL ("
            f'  SELECT price, ts_ns FROM "{s}".trades WHERE venue = :venue AND symbol = s.symbol '
            "  ORDER BY ts_ns DESC LIMIT 1"
            ") AS t"
        ),
        {"venue": venue, "symbols": symbols},
    )
    rows = result.all()
    return MarketResume(
        {symbol: Decimal(price) for symbol, price, _ in rows}, max((int(ts) for *_, ts in rows), default=None)
    )
