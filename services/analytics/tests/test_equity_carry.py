"""Daily equity rewritten from each scope's carry over real Postgres: after every step (fills in
batches, bot tags before and after their fills, an out-of-order fill, a redelivery, a late mark
for an old day, live marks, days passing) every scope's stored rows equal a whole fold of its
stored fills and marks, and the steps that can continue read only the fills after the carry."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from an_harness import bot_client_id
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from tradeloom.analytics.domain.equity import Fill, MarkBook, daily_equity
from tradeloom.analytics.ledger import Ledger
from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.analytics.store.intraday_store import IntradayStore
from tradeloom.shared.contracts.orders import FillInfo, FillRecorded, OrderInfo, OrderUpdated
from tradeloom.shared.envelope import Envelope

ACCOUNT, FLAT, USER = "acc-carry", "acc-flat", "user-carry"
BOT = str(uuid.uuid4())
DAY1 = date(2026, 5, 1)


class RecordingStore(EquityStore):
    """The equity store, noting which fills each rewrite asked for (None: all of the scope's)."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema)
        self.reads: list[tuple[str, Any]] = []

    async def fills(
        self, conn: AsyncConnection, scope: str, scope_id: str, after: tuple[datetime, str] | None = None
    ) -> tuple[list[Fill], str, str]:
        self.reads.append((scope, after))
        return await super().fills(conn, scope, scope_id, after)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(DAY1.year, DAY1.month, DAY1.day, hour, minute, tzinfo=UTC) + timedelta(days=day)


def fill(
    fill_id: str,
    side: str,
    price: str,
    quantity: str,
    when: datetime,
    order: str | None = None,
    account: str = ACCOUNT,
) -> Envelope:
    info = FillInfo(
        fill_id=fill_id, order_id=order or f"o-{fill_id}", account_id=account, venue="sim",
        venue_fill_id=f"paper:{fill_id}", symbol="BTC/USDT", side=side,
        price=Decimal(price), quantity=Decimal(quantity), fee=Decimal("0.013"), fee_asset="USDT",
        liquidity="taker", trade_id=fill_id, filled_at=when,
    )  # fmt: skip
    return Envelope.wrap(FillRecorded(user_id=USER, fill=info), source="test")


def bot_order(order_id: str, when: datetime) -> Envelope:
    client_order_id = bot_client_id(BOT, int(when.timestamp()) * 1_000_000_000)
    info = OrderInfo(
        order_id=order_id, account_id=ACCOUNT, client_order_id=client_order_id,
        venue="sim", symbol="BTC/USDT", side="buy", type="market", status="filled", quantity=Decimal(1),
        filled_quantity=Decimal(1), triggered=False, time_in_force="gtc", post_only=False,
        reduce_only=False, fees=Decimal(0), created_at=when, updated_at=when,
    )  # fmt: skip
    return Envelope.wrap(OrderUpdated(user_id=USER, previous_status="new", order=info), source="test")


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(database_url, pool_size=2)
    try:
        yield made
    finally:
        await made.dispose()


async def assert_rows_are_whole_folds(engine: AsyncEngine, schema: str, today: date) -> None:
    store = EquityStore(schema)
    async with engine.connect() as conn:
        for scope, scope_id in await store.every_scope(conn):
            fills, _, _ = await store.fills(conn, scope, scope_id)
            marks = await store.marks(conn, ["BTC/USDT"])
            expected = [
                (r.day, r.equity, r.pnl, r.exposure, r.trades)
                for r in daily_equity(fills, MarkBook(marks), today)
            ]
            result = await conn.execute(
                text(
                    f'SELECT day, equity, pnl, exposure, trades FROM "{store.s}".daily_equity '
                    "WHERE scope = :scope AND scope_id = :id ORDER BY day"
                ),
                {"scope": scope, "id": scope_id},
            )
            stored = [tuple(row) for row in result]
            # numeric(38, 18) columns: the fold's figures as stored
            assert stored == [(d, *(round(x, 18) for x in (e, p, x2)), t) for d, e, p, x2, t in expected]


async def test_rows_continued_from_carries_equal_whole_folds(engine: AsyncEngine, an_schema: str) -> None:
    store = RecordingStore(an_schema)
    today = [DAY1 + timedelta(days=3)]
    ledger = Ledger(lambda: engine, store, IntradayStore(an_schema), 1.0, today=lambda: today[0])
    ledger.price_round.chunk = 2  # three scopes: a round of two chunks

    async def orders(*envelopes: Envelope) -> list[tuple[str, Any]]:
        store.reads.clear()
        async with engine.begin() as conn:
            await ledger.on_orders(conn, list(envelopes))
        await assert_rows_are_whole_folds(engine, an_schema, today[0])
        return list(store.reads)

    async def mark(day: date, price: str, when: datetime) -> None:
        async with engine.begin() as conn:
            ns = int(when.timestamp()) * 1_000_000_000
            await store.set_mark(conn, "BTC/USDT", day, Decimal(price), ns)
        ledger._mark_dirty("BTC/USDT", day)  # as on_trades / on_candle note it

    rounds: list[int] = []  # how many scopes each round rewrote

    async def roll() -> list[tuple[str, Any]]:
        store.reads.clear()
        rounds.append(await ledger.roll())
        await assert_rows_are_whole_folds(engine, an_schema, today[0])
        return list(store.reads)

    await roll()  # the first round after a start: everything, nothing yet
    # day 1-2: the bot's order tagged before its fill in the same batch; both scopes folded whole
    reads = await orders(
        bot_order("ob1", at(0, 9)),
        fill("a1", "buy", "100.5", "2", at(0, 9), order="ob1"),
        fill("a2", "sell", "101", "0.5", at(0, 15)),
        fill("a3", "buy", "99.25", "1.125", at(1, 10)),
    )
    assert reads == [("account", None), ("bot", None)]  # no carry yet
    await mark(DAY1 + timedelta(days=1), "104", at(1, 23))
    await mark(DAY1 + timedelta(days=3), "108", at(3, 8))
    assert await roll() == []  # continued from the carries a chunk at a time: no scope's fills read
    # a new fill today continues from the carry: only the fills after it are read
    reads = await orders(fill("a4", "sell", "107", "1", at(3, 9)))
    assert reads == [("account", (at(1, 10), "a3"))]
    # a redelivered fill changes nothing
    assert await orders(fill("a4", "sell", "107", "1", at(3, 9))) == []
    # an out-of-order fill (day 2, before the carry's last): the account is folded whole
    assert await orders(fill("a0", "buy", "103", "0.75", at(2, 12))) == [("account", None)]
    # the bot's second order: tagged after its fill was stored → the bot folded whole
    await orders(fill("b1", "buy", "107.5", "0.5", at(3, 10), order="ob2"))
    assert await orders(bot_order("ob2", at(3, 10))) == [("bot", None)]
    # a late mark of an old day (before the carries' days) → folded whole; a live mark → continued
    await mark(DAY1, "102", at(0, 23, 59))
    assert await roll() == [("account", None), ("bot", None)]
    # a flat account (bought and sold the same): today's prices cannot change its rows
    await orders(
        fill("c1", "buy", "108", "1", at(3, 7), account=FLAT),
        fill("c2", "sell", "109", "1", at(3, 8), account=FLAT),
    )
    await mark(DAY1 + timedelta(days=3), "109.75", at(3, 11))
    assert await roll() == []
    assert rounds[-1] == 2  # the account and the bot, not the flat account
    async with engine.connect() as conn:  # today's rows observed as intraday lows (the lowest kept)
        lows = await conn.execute(
            text(f'SELECT scope, scope_id FROM "{an_schema}".intraday_lows WHERE day = :d'),
            {"d": today[0]},
        )
        assert {("account", ACCOUNT), ("bot", BOT)} <= {tuple(row) for row in lows}
    # an earlier day's price moved: every scope that filled the symbol (the flat one held it then),
    # each folded whole (the day is before their carries')
    await mark(DAY1 + timedelta(days=3), "109.5", at(3, 12))
    await mark(DAY1 + timedelta(days=2), "106", at(2, 23))
    assert await roll() == [("account", None), ("account", None), ("bot", None)] and rounds[-1] == 3
    # two days pass without a trade: the stale scopes get their rows continued to the new today
    today[0] = DAY1 + timedelta(days=5)
    assert await roll() == [] and rounds[-1] == 3
    # fills at one instant: the id orders them (byte order, whatever the database's collation)
    await orders(fill("Z9", "buy", "110", "0.25", at(5, 1)), fill("a9", "sell", "111", "0.25", at(5, 1)))
    reads = await orders(
        fill("b9", "buy", "112", "0.1", at(5, 1)), fill("B0", "sell", "112", "0.1", at(5, 2))
    )
    assert reads == [("account", (at(5, 1), "a9"))]
    # a fill stored without its rewrite (no writer leaves one, but a round must not hide it): the
    # round leaves that scope to a rewrite of its own, which reads the fills after the carry
    async with engine.begin() as conn:
        row = {"fill_id": "x1", "order_id": "o-x1", "account_id": ACCOUNT, "user_id": USER}
        row |= {"symbol": "BTC/USDT", "side": "buy", "price": Decimal(113), "quantity": Decimal("0.2")}
        await store.add_fill(conn, row | {"fee": Decimal(0), "filled_at": at(5, 3)})
    await mark(today[0], "114", at(5, 4))
    assert await roll() == [("account", (at(5, 2), "B0"))]


async def test_a_fill_and_its_bot_tag_in_two_transactions_at_once(
    engine: AsyncEngine, an_schema: str
) -> None:
    """As two replicas would: the tag's transaction waits for the fill's, then sees its fill."""
    store = EquityStore(an_schema)
    ledger = Ledger(lambda: engine, store, IntradayStore(an_schema), 1.0, today=lambda: DAY1)
    async with engine.begin() as first:
        await ledger.on_orders(first, [fill("r1", "buy", "100", "1", at(0, 9), order="or1")])
        tagging = asyncio.create_task(_in_transaction(engine, ledger, bot_order("or1", at(0, 9))))
        await asyncio.sleep(0.3)
        assert not tagging.done()  # waiting for the order's lock
    await asyncio.wait_for(tagging, 5)
    await assert_rows_are_whole_folds(engine, an_schema, DAY1)
    async with engine.connect() as conn:
        fills, _, _ = await store.fills(conn, "bot", BOT)
    assert [f.fill_id for f in fills] == ["r1"]
    rows = await conn_rows(engine, an_schema, "bot", BOT)
    assert len(rows) == 1


async def _in_transaction(engine: AsyncEngine, ledger: Ledger, envelope: Envelope) -> None:
    async with engine.begin() as conn:
        await ledger.on_orders(conn, [envelope])


async def conn_rows(engine: AsyncEngine, schema: str, scope: str, scope_id: str) -> list[tuple[Any, ...]]:
    async with engine.connect() as conn:
        result = await conn.execute(
            text(f'SELECT day, equity FROM "{schema}".daily_equity WHERE scope = :s AND scope_id = :i'),
            {"s": scope, "i": scope_id},
        )
        return [tuple(row) for row in result]
