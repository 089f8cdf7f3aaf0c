"""The work queue: cancel honoured mid-run, a dead worker's run completed once by another (see
test_worker_kill.py for the same with a real process killed by SIGKILL).

How fast a cancel is honoured is measured in bench/, not asserted here: a loaded machine would
make any bound flaky."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.polling import eventually


async def test_cancel_of_a_running_backtest_is_honoured_mid_run(harness: Any, gated_market: Any) -> None:
    market = gated_market  # 600 bars in blocks of 100: the fetch waits at the first block
    await harness.start_service(candle_block_size=100, market_data_timeout_s=60)
    backtest_id = await harness.submit()
    await harness.events.wait_for(backtest_id, "progress")
    await eventually(lambda: market.calls >= 1, "the worker is fetching")
    reply = await harness.call("cancel", {"backtest_id": backtest_id})
    assert reply["status"] == "running"
    market.gate.set()
    cancelled = await harness.events.wait_for(backtest_id, "cancelled", timeout_s=30)
    assert cancelled.data["user_id"] == "alice"
    status = await harness.call("status", {"backtest_id": backtest_id})
    assert status["status"] == "cancelled" and status["finished_at"] is not None
    with pytest.raises(RemoteError) as caught:
        await harness.call("results", {"backtest_id": backtest_id})
    assert caught.value.code == "conflict"
    await harness.settled()
    assert market.calls < 6  # it stopped fetching: 6 blocks is the whole range
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
    await harness.settled()  # the queued run's command is acked too
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
    await eventually(
        lambda: any(e.data["phase"] == "simulating" for e in harness.events.of(backtest_id, "progress")),
        "the doomed worker reached the simulation",
    )
    assert harness.events.of(backtest_id, "completed") == []

    await harness.start_service()  # a healthy replica picks up the redelivery after ack_wait (2 s)
    completed = await harness.events.wait_for(backtest_id, "completed", timeout_s=30)
    await harness.settled()
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
