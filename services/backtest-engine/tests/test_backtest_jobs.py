"""The work queue: cancel honoured within a second, a dead worker's run completed once by another."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.rpc import RemoteError


async def test_cancel_of_a_running_backtest_is_honoured_within_a_second(harness: Any, market: Any) -> None:
    market.page_delay_s = 0.3  # 600 bars in pages of 100: about 2 s of fetching
    await harness.start_service(candle_block_size=100)
    backtest_id = await harness.submit()
    await harness.events.wait_for(backtest_id, "progress")
    asked = time.monotonic()
    reply = await harness.call("cancel", {"backtest_id": backtest_id})
    assert reply["status"] == "running"
    cancelled = await harness.events.wait_for(backtest_id, "cancelled", timeout_s=5)
    assert time.monotonic() - asked < 1.0
    assert cancelled.data["user_id"] == "alice"
    status = await harness.call("status", {"backtest_id": backtest_id})
    assert status["status"] == "cancelled" and status["finished_at"] is not None
    assert market.calls < 6  # it stopped fetching
    with pytest.raises(RemoteError) as caught:
        await harness.call("results", {"backtest_id": backtest_id})
    assert caught.value.code == "conflict"
    await asyncio.sleep(0.5)
    assert harness.events.of(backtest_id, "completed") == []


async def test_cancel_of_a_queued_backtest_is_final_at_once(harness: Any, market: Any) -> None:
    parts = await harness.start_service()
    release = asyncio.Event()

    async def hold(phase: str) -> None:
        if phase == "fetching":
            await release.wait()  # keeps the only worker busy, so the next run stays queued

    parts.worker.fault = hold
    busy = await harness.submit()
    await harness.events.wait_for(busy, "progress")
    queued = await harness.submit()
    reply = await harness.call("cancel", {"backtest_id": queued})
    assert reply["status"] == "cancelled"
    await harness.events.wait_for(queued, "cancelled", timeout_s=5)
    parts.worker.fault = None
    release.set()
    await harness.events.wait_for(busy, "completed")
    await asyncio.sleep(0.5)
    assert harness.events.of(queued, "progress") == []  # the worker skipped it
    assert (await harness.call("status", {"backtest_id": queued}))["status"] == "cancelled"
    deleted = await harness.call("delete", {"backtest_id": queued})
    assert deleted["deleted"] is True


async def test_a_worker_that_dies_mid_run_is_replaced_and_the_run_completes_once(
    harness: Any, market: Any, db_engine: AsyncEngine, bt_schema: str
) -> None:
    doomed = await harness.start_service()

    async def die(phase: str) -> None:
        if phase == "simulating":  # the process "dies": its consumer task ends without ack or commit
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)

    doomed.worker.fault = die
    backtest_id = await harness.submit()
    await harness.events.wait_for(backtest_id, "progress")
    for _ in range(100):
        if any(e.data["phase"] == "simulating" for e in harness.events.of(backtest_id, "progress")):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    assert harness.events.of(backtest_id, "completed") == []

    await harness.start_service()  # a healthy replica picks up the redelivery after ack_wait (2 s)
    completed = await harness.events.wait_for(backtest_id, "completed", timeout_s=20)
    await asyncio.sleep(1.0)
    assert len(harness.events.of(backtest_id, "completed")) == 1
    async with db_engine.connect() as conn:
        attempts = await conn.scalar(
            text(f'SELECT attempts FROM "{bt_schema}".runs WHERE backtest_id = :id'), {"id": backtest_id}
        )
        stored = await conn.scalar(
            text(f'SELECT count(*) FROM "{bt_schema}".trades WHERE backtest_id = :id'), {"id": backtest_id}
        )
    assert attempts == 2
    assert stored == completed.data["trade_count"]
    results = await harness.call("results", {"backtest_id": backtest_id})
    assert results["trade_count"] == completed.data["trade_count"]
