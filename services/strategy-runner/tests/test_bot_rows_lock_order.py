"""The orders consumer's batch and a submit batch's answers update the same bot orders and
decisions from two transactions; both lock them first in client id order
(``BotLedgerStore.lock_rows``), so however their updates interleave, neither ever waits on the
other in a cycle (Postgres would abort one after ``deadlock_timeout``)."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tradeloom.strategy_runner.store.bot_ledger_store import BotLedgerStore

ORDERS = 8


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    made = create_async_engine(database_url, pool_size=4)
    try:
        yield made
    finally:
        await made.dispose()


async def seeded(engine: AsyncEngine, schema: str) -> list[str]:
    """One bot with ``ORDERS`` sent orders, each with its decision; their client ids."""
    bot = uuid.uuid4()
    cids = [f"bot-{bot}-{n}" for n in range(ORDERS)]
    async with engine.begin() as conn:
        await conn.execute(
            text(
                f'INSERT INTO "{schema}".bots (id, user_id, name, strategy_id, strategy_version, template, '
                "params, account_id, venue, symbol, timeframe, sizing, max_position) VALUES (:id, 'alice', "
                "'b', :sid, 1, 'sma_cross', '{}', 'acc', 'sim', 'BTC/USDT', '1m', '{}', 1)"
            ),
            {"id": bot, "sid": uuid.uuid4()},
        )
        for n, cid in enumerate(cids):
            await conn.execute(
                text(
                    f'INSERT INTO "{schema}".bot_orders (bot_id, symbol, bar_ns, client_order_id, side, '
                    "quantity) VALUES (:bot, 'BTC/USDT', :bar, :cid, 'buy', 1)"
                ),
                {"bot": bot, "bar": n, "cid": cid},
            )
            await conn.execute(
                text(
                    f'INSERT INTO "{schema}".bot_decisions (bot_id, bar_ns, signal, action, reason, '
                    "client_order_id) VALUES (:bot, :bar, 'long', 'buy', 'sending', :cid)"
                ),
                {"bot": bot, "bar": n, "cid": cid},
            )
    return cids


async def test_a_consumer_batch_and_a_batchs_answers_never_deadlock(
    engine: AsyncEngine, sr_schema: str
) -> None:
    store = BotLedgerStore(sr_schema)
    cids = await seeded(engine, sr_schema)
    rng = random.Random(7)

    async def consumer(order: list[str]) -> None:  # as BotLedgerEvents.on_orders: lock, then each update
        async with engine.begin() as conn:
            await store.lock_rows(conn, order)
            for cid in order:
                await store.order_answered(conn, cid, "new", f"o-{cid}", Decimal(0))
                await asyncio.sleep(0.001)  # the other transaction runs meanwhile
                await store.decision_order_seen(conn, cid, f"o-{cid}")

    async def answers(order: list[str]) -> None:  # as OrderSender._answered_many
        rows = [(cid, "new", f"o-{cid}", Decimal(0), "buy", "order sent") for cid in order]
        async with engine.begin() as conn:
            await store.answers_recorded(conn, rows)
            await asyncio.sleep(0.002)

    for _ in range(25):  # every round the two in other orders; a deadlock would raise here
        first, second = rng.sample(cids, len(cids)), rng.sample(cids, len(cids))
        await asyncio.wait_for(asyncio.gather(consumer(first), answers(second)), timeout=10)
    async with engine.connect() as conn:
        settled = await conn.execute(
            text(f'SELECT count(*) FROM "{sr_schema}".bot_decisions WHERE order_id IS NOT NULL')
        )
        assert settled.scalar_one() == ORDERS
