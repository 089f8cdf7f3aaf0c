"""The marks consumer's batch handler on a migrated schema (real Postgres): a fetched batch of trade
messages is one statement, each symbol's newest trade wins (in Postgres, in the check's memory after
the commit, and for the mark-to-market round), and an older trade never overwrites a newer price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.check_state import CheckState
from tradeloom.risk_monitor.marks import Marks
from tradeloom.risk_monitor.store.check_store import CheckStore
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.contracts.market_data import TradesIngested, TradeTick
from tradeloom.shared.envelope import Envelope

D = Decimal


def trades(symbol: str, *ticks: tuple[str, int]) -> Envelope:
    """One message of ``symbol``'s trades, each (price, ts_ns)."""
    event = TradesIngested(
        venue="sim",
        symbol=symbol,
        trades=[
            TradeTick(trade_id=f"{symbol}-{ts}", ts_ns=ts, price=D(price), amount=D(1), side="buy")
            for price, ts in ticks
        ],
    )
    return Envelope.wrap(event, source="tradeloom/tests")


async def stored(engine: AsyncEngine, schema: str) -> dict[str, tuple[Decimal, int]]:
    async with engine.connect() as conn:
        rows = await conn.execute(text(f'SELECT symbol, price, ts_ns FROM "{schema}".last_prices'))
        return {str(r.symbol): (Decimal(r.price), int(r.ts_ns)) for r in rows}


async def test_a_batch_of_marks_is_one_statement_and_each_symbols_newest_trade_wins(
    db_engine: AsyncEngine, rm_schema: str
) -> None:
    state = CheckState(lambda: db_engine, CheckStore(rm_schema), refresh_s=10)
    marks = Marks(lambda: db_engine, PositionsStore(rm_schema), None, 1.0, state=state)  # type: ignore[arg-type]
    batch = [
        trades("BTC/USDT", ("100", 5)),
        trades("ETH/USDT", ("10", 3), ("11", 2)),  # the newest of a message is its latest ts, not its last
        trades("BTC/USDT", ("110", 7)),
        trades("BTC/USDT", ("105", 6)),  # delivered last but older: does not win
    ]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(str(args[2]))

    event.listen(db_engine.sync_engine, "before_cursor_execute", count)
    try:
        async with db_engine.begin() as conn:
            await marks.on_batch(conn, batch)
            assert state.prices == {}  # memory follows the commit
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", count)
    assert len([s for s in statements if "last_prices" in s]) == 1
    newest = {"BTC/USDT": (D(110), 7), "ETH/USDT": (D(10), 3)}
    assert await stored(db_engine, rm_schema) == newest
    assert state.prices == newest
    assert marks._dirty == {"BTC/USDT": D(110), "ETH/USDT": D(10)}

    async with db_engine.begin() as conn:  # an older trade of BTC, a newer one of ETH
        await marks.on_batch(conn, [trades("BTC/USDT", ("90", 4)), trades("ETH/USDT", ("12", 9))])
    assert await stored(db_engine, rm_schema) == {"BTC/USDT": (D(110), 7), "ETH/USDT": (D(12), 9)}
    assert state.prices == {"BTC/USDT": (D(110), 7), "ETH/USDT": (D(12), 9)}
