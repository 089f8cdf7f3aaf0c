"""``trades_range``: stored trades of a time range, oldest first, with cursor paging.

The cursor is ``<ts_ns>:<trade_id>`` of the page's last trade (trade ids may hold ``:``; the
timestamp never does), so the next page starts strictly after it whatever shares its timestamp.
"""

from __future__ import annotations

from tradeloom.market_data.api_market import MarketApi
from tradeloom.market_data.store.trades_range import trades_page
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.contracts.market_data_trades import TradesRangeReply, TradesRangeRequest
from tradeloom.shared.errors import field_invalid


def parse_cursor(cursor: str) -> tuple[int, str]:
    ts, sep, trade_id = cursor.partition(":")
    if not sep or not ts.isdigit() or not trade_id or len(ts) > 19:
        raise field_invalid("cursor", "not a cursor this service returned")
    return int(ts), trade_id


class TradesRangeApi:
    def __init__(self, market: MarketApi) -> None:
        self.market = market

    async def trades_range(self, _: CallerContext, body: TradesRangeRequest) -> TradesRangeReply:
        if body.from_ns is not None and body.to_ns is not None and body.from_ns > body.to_ns:
            raise field_invalid("from_ns", "must not be after to_ns")
        after = parse_cursor(body.cursor) if body.cursor is not None else None
        venue, symbol = await self.market.resolve(body.symbol, body.venue)
        async with self.market.engine.connect() as connection:
            rows = await trades_page(
                connection,
                self.market.schema,
                venue,
                symbol,
                from_ns=body.from_ns,
                to_ns=body.to_ns,
                after=after,
                limit=body.limit + 1,
            )
        page = rows[: body.limit]
        last = page[-1] if page else None
        return TradesRangeReply(
            venue=venue,
            symbol=symbol,
            trades=[TradeTick.model_validate(dict(r._mapping)) for r in page],
            next_cursor=f"{last.ts_ns}:{last.trade_id}"
            if last is not None and len(rows) > body.limit
            else None,
        )
