"""``trades_range``: a stored range read oldest first in pages by (ts_ns, trade_id) — trades
sharing a timestamp and ids holding ``:`` neither skipped nor repeated — inclusive bounds, and
bad inputs refused naming the field."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_market import MarketApi
from tradeloom.market_data.api_trades import TradesRangeApi
from tradeloom.market_data.domain.instruments import default_sim_instruments
from tradeloom.market_data.store.instruments_store import upsert_instruments
from tradeloom.market_data.store.trades_store import store_trades
from tradeloom.market_data.trade_batch import TradeColumns
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.contracts.market_data_trades import TradesRangeRequest
from tradeloom.shared.errors import NotFound, ValidationFailed

T0 = 1_704_067_200 * 10**9


async def test_trades_by_range_paged_by_cursor(md_schema: str, db_engine: AsyncEngine) -> None:
    venue = f"v{uuid.uuid4().hex[:8]}"
    # 53 trades, five per timestamp; ids like "a:07" so a naive split on ':' would break the cursor
    ticks = [
        TradeTick(trade_id=f"{'ab'[i % 2]}:{i:02d}", ts_ns=T0 + (i // 5) * 10**9,
                  price=Decimal(100 + i), amount=Decimal("0.1"), side="buy")
        for i in range(53)
    ]  # fmt: skip
    async with db_engine.begin() as connection:
        await upsert_instruments(connection, md_schema, default_sim_instruments(venue, ["BTC/USDT"]), "file")
        await store_trades(connection, md_schema, [TradeColumns.from_trades(venue, "BTC/USDT", ticks[::-1])])
    api = TradesRangeApi(MarketApi(lambda: db_engine, md_schema, venue))
    expected = [t.trade_id for t in sorted(ticks, key=lambda t: (t.ts_ns, t.trade_id))]

    async def walk(**body: object) -> list[list[str]]:
        pages, cursor = [], None
        while True:
            reply = await api.trades_range(
                CallerContext(), TradesRangeRequest(symbol="btc-usdt", cursor=cursor, **body)
            )  # type: ignore[arg-type]
            pages.append([t.trade_id for t in reply.trades])
            if reply.next_cursor is None:
                return pages
            cursor = reply.next_cursor

    pages = await walk(limit=7)
    assert [len(p) for p in pages] == [7] * 7 + [4] and [t for p in pages for t in p] == expected
    assert await walk(limit=53) == [expected]  # exactly one page: no empty trailing page
    # inclusive bounds: seconds 2..4 hold trades 10..24
    window = await walk(from_ns=T0 + 2 * 10**9, to_ns=T0 + 4 * 10**9, limit=1000)
    assert [t for p in window for t in p] == [
        t for t in expected if T0 + 2 * 10**9 <= ticks[int(t[2:])].ts_ns <= T0 + 4 * 10**9
    ]
    assert len(window[0]) == 15
    assert await walk(from_ns=T0 + 100 * 10**9) == [[]]
    first = await api.trades_range(CallerContext(), TradesRangeRequest(symbol="BTC/USDT", limit=5))
    assert first.trades[0].price == Decimal(100) and first.next_cursor == f"{T0}:b:03"

    for cursor in ("x", "12", ":a", "12:", "-1:a", "1" * 20 + ":a"):
        with pytest.raises(ValidationFailed) as caught:
            await api.trades_range(CallerContext(), TradesRangeRequest(symbol="BTC/USDT", cursor=cursor))
        assert caught.value.details["fields"][0]["field"] == "cursor", cursor
    with pytest.raises(ValidationFailed) as caught:
        await api.trades_range(CallerContext(), TradesRangeRequest(symbol="BTC/USDT", from_ns=5, to_ns=4))
    assert caught.value.details["fields"][0]["field"] == "from_ns"
    with pytest.raises(NotFound):
        await api.trades_range(CallerContext(), TradesRangeRequest(symbol="DOGE/USDT"))
