"""What an option chain request reads on every call, in one statement: a fingerprint of the
expiry's listing (to know whether a remembered listing is still the registry's), the underlying's
last trade, and the newest imported venue quote of the underlying."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.market_data.store.instruments_store import like_escaped
from tradeloom.shared.db import check_schema_name


@dataclass(frozen=True)
class ChainState:
    """``listing``: (count, sum of ``updated_at`` as epoch seconds) of every option row of the
    underlying's expiry day, whatever its status or strike. The registry's only write is an upsert
    that sets ``updated_at = now()``, so a row added, changed or moved into or out of the day changes
    the count or the sum."""

    listing: tuple[int, Decimal | None]
    last_price: Decimal | None
    last_ts_ns: int | None
    newest_quote_ns: int | None


async def chain_state(
    connection: AsyncConnection, schema: str, venue: str, underlying: str, expiry: date
) -> ChainState:
    """``underlying`` a normalised spot symbol (``BTC/USDT``), as ``option_listing`` takes it."""
    s = check_schema_name(schema)
    day_from = datetime.combine(expiry, time(0), tzinfo=UTC)
    statement = text(
        "WITH listing AS ("
        "  SELECT count(*) AS n, sum(extract(epoch FROM updated_at)) AS stamp "
        f'  FROM "{s}".instruments '
        "  WHERE venue = :venue AND kind = 'option' AND underlying = :base AND symbol LIKE :prefix "
        "  AND expiry >= :day_from AND expiry < :day_to) "
        "SELECT listing.n, listing.stamp, m.last_price, m.last_ts_ns, "
        f'  (SELECT max(ts_ns) FROM "{s}".venue_option_quotes WHERE venue = :venue AND underlying = :u) '
        f'FROM listing LEFT JOIN "{s}".market_state m ON m.venue = :venue AND m.symbol = :u'
    )
    params = {
        "venue": venue, "base": underlying.partition("/")[0], "prefix": f"{like_escaped(underlying)}:%",
        "day_from": day_from, "day_to": day_from + timedelta(days=1), "u": underlying,
    }  # fmt: skip
    row = (await connection.execute(statement, params)).one()
    n, stamp, last_price, last_ts_ns, newest = row
    return ChainState(
        (int(n), stamp), last_price, None if last_ts_ns is None else int(last_ts_ns),
        None if newest is None else int(newest),
    )  # fmt: skip
