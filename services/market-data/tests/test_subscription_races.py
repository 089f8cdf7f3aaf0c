"""The subscription supervisor against the real ``subscriptions`` table, with a stand-in ingest
(our own interface): an admin's stop and start racing a sync are honoured, not overwritten.

- stop, then a start committed while the supervisor is stopping the source: the row stays
  ``pending`` (not ``stopped``) and the next sync runs it again (it was left stopped for good);
- stop and start again between two syncs (the source never stopped): ``running``, not ``pending``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.sources.subscriptions import SubscriptionSupervisor
from tradeloom.market_data.store.subscriptions_store import start_subscription, stop_subscription

KEY = ("sim", "SOL/USDT")


class Ingests:
    """Counts the sources started; ``on_stop`` runs when one is stopped (before it ends)."""

    def __init__(self) -> None:
        self.started = 0
        self.live = 0
        self.on_stop: list[Callable[[], Awaitable[None]]] = []

    async def __call__(self, venue: str, symbol: str, books: bool, stop: asyncio.Event) -> None:
        self.started += 1
        self.live += 1
        try:
            await stop.wait()
            for hook in self.on_stop:
                await hook()
        finally:
            self.live -= 1


async def _row(engine: AsyncEngine, schema: str) -> tuple[str, str]:
    async with engine.connect() as connection:
        row = (await connection.execute(text(f'SELECT desired, status FROM "{schema}".subscriptions'))).one()
    return row.desired, row.status


async def _ask(engine: AsyncEngine, schema: str, op: str) -> None:
    async with engine.begin() as connection:
        if op == "start":
            await start_subscription(connection, schema, *KEY, books=False, user="root")
        else:
            await stop_subscription(connection, schema, *KEY)


async def test_a_start_racing_the_stop_of_its_source_is_not_overwritten(
    md_schema: str, db_engine: AsyncEngine
) -> None:
    ingests = Ingests()
    supervisor = SubscriptionSupervisor(
        lambda: db_engine, md_schema, ingests, interval_s=60, wake=asyncio.Event()
    )
    await _ask(db_engine, md_schema, "start")
    await supervisor.sync()
    assert (await _row(db_engine, md_schema), ingests.live) == (("running", "running"), 1)

    await _ask(db_engine, md_schema, "stop")
    ingests.on_stop.append(lambda: _ask(db_engine, md_schema, "start"))  # while the source winds down
    await supervisor.sync()
    assert (await _row(db_engine, md_schema), ingests.live) == (("running", "pending"), 0)
    ingests.on_stop.clear()
    await supervisor.sync()
    assert (await _row(db_engine, md_schema), ingests.live, ingests.started) == (("running", "running"), 1, 2)

    await _ask(db_engine, md_schema, "stop")
    await _ask(db_engine, md_schema, "start")  # before any sync saw the stop: the source never stopped
    await supervisor.sync()
    assert (await _row(db_engine, md_schema), ingests.live, ingests.started) == (("running", "running"), 1, 2)

    await _ask(db_engine, md_schema, "stop")
    await supervisor.sync()
    assert (await _row(db_engine, md_schema), ingests.live) == (("stopped", "stopped"), 0)
