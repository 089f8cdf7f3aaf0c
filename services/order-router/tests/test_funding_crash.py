"""kill -9 of order-router (a real subprocess) while it pays funding on a paper perp position.

Each funding time is paid in its own transaction with its ``perp_fundings`` row (the idempotency
key) and its ``orders.evt.funding_paid`` outbox row. 60 funding times are owed; the router is
killed once some are paid (the sweep is then most likely inside one), 20 more become owed while it
is down, and after the restart every one of the 80 is paid exactly once: one row and one event
each, and the balance moved by exactly 80 payments.

Worked by hand (leverage 10, fee 0.1 %, contract size 1): sell 10 @ 100 → fee 1, margin 100 locked;
each funding time at mark 100, rate 0.01 %: the short receives 10 × 100 × 0.0001 = 0.1.
USDT free: 10,000 − 1 − 100 + 80 × 0.1 = 9,907.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from or_harness import Caller, Neighbours, eventually, router_process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account, wait_status
from test_perp_orders import PERP, funding_times, leverage_10, perp_priced

from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient

__all__ = ["funding_times", "leverage_10"]  # fixtures, used by name

BEFORE_KILL = 60
WHILE_DOWN = 20


async def _count(db_engine: AsyncEngine, sql: str, **params: Any) -> int:
    async with db_engine.connect() as conn:
        return int((await conn.execute(text(sql), params)).scalar_one())


@pytest.mark.usefixtures("leverage_10")
async def test_funding_paid_once_each_across_a_kill_9(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    db_engine: AsyncEngine,
    or_schema: str,
    tmp_path: Path,
    funding_times: list[int],
) -> None:
    times = funding_times
    router = router_process(or_settings, tmp_path, perp_funding_interval_s=0.1)
    await asyncio.to_thread(router.start)
    alice = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    paid_rows = f'SELECT count(*) FROM "{or_schema}".perp_fundings'
    try:
        account_id = await open_account(alice)
        await perp_priced(neighbours, db_engine, or_schema, "100")
        short = await alice(
            "orders_submit",
            {"account_id": account_id, "symbol": PERP, "type": "market", "side": "sell", "quantity": "10"},
        )
        await neighbours.trade("100", "50", symbol=PERP)
        await wait_status(alice, short["order_id"], "filled")

        opened = time.time_ns()
        times.extend(opened + n for n in range(1, BEFORE_KILL + 1))
        await eventually(lambda: _at_least(db_engine, paid_rows, 10), timeout_s=60)
        router.kill()
        killed_at = await _count(db_engine, paid_rows)
        times.extend(opened + n for n in range(BEFORE_KILL + 1, BEFORE_KILL + WHILE_DOWN + 1))
        await asyncio.to_thread(router.start)
        total = BEFORE_KILL + WHILE_DOWN
        await eventually(lambda: _at_least(db_engine, paid_rows, total), timeout_s=120)

        keys = (
            f'SELECT count(DISTINCT (account_id, symbol, funding_time_ns)) FROM "{or_schema}".perp_fundings'
        )
        assert await _count(db_engine, keys) == total == await _count(db_engine, paid_rows)
        events = f'SELECT count(*) FROM "{or_schema}".outbox WHERE subject LIKE :s'
        assert await _count(db_engine, events, s="%funding_paid%") == total
        assert (await balances(alice, account_id))["USDT"] == (
            Decimal(10_000) - 1 - 100 + total * Decimal("0.1"),
            Decimal(100),
        )
        assert 0 < killed_at < total  # the kill came while funding was being paid
    finally:
        router.close()


async def _at_least(db_engine: AsyncEngine, sql: str, n: int) -> bool:
    return await _count(db_engine, sql) >= n
