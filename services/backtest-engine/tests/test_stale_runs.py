"""The stale-run sweeper: a run whose worker dies on its last delivery ends ``failed``
(``worker_lost``); a slow but healthy run is never swept; final is final."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.backtest_engine.worker import RUNS_CONSUMER
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.polling import eventually

# Short beats and bound: the staleness bound is max(2.5, longest backoff 2 + 2 × 0.2) = 2.5 s.
FAST_SWEEP = {"heartbeat_interval_s": 0.2, "stale_run_after_s": 2.5, "sweep_interval_s": 0.2}
BOUND_S = 2.5
# Every delivery is the last: a worker that dies leaves no redelivery to finish the run.
LAST_DELIVERY = dataclasses.replace(RUNS_CONSUMER, max_deliver=1, backoff_s=(2.0,))


async def _row(db_engine: AsyncEngine, schema: str, backtest_id: str) -> Any:
    async with db_engine.connect() as conn:
        row = await conn.execute(
            text(
                f'SELECT status, error_code, attempts, (SELECT count(*) FROM "{schema}".trades t '
                f'WHERE t.backtest_id = r.backtest_id) AS trades FROM "{schema}".runs r '
                "WHERE backtest_id = :id"
            ),
            {"id": backtest_id},
        )
        return row.one()


async def _until_phase(harness: Any, backtest_id: str, phase: str) -> None:
    await eventually(
        lambda: any(e.data["phase"] == phase for e in harness.events.of(backtest_id, "progress")),
        f"{backtest_id} reached {phase}",
    )


async def test_a_worker_that_dies_on_its_last_delivery_leaves_a_failed_worker_lost_run(
    harness: Any, market: Any, db_engine: AsyncEngine, bt_schema: str
) -> None:
    doomed = await harness.start_service(runs_consumer=LAST_DELIVERY, **FAST_SWEEP)

    async def die(phase: str) -> None:
        if phase == "simulating":  # the consumer task ends without ack or commit
            task = asyncio.current_task()
            assert task is not None
            task.cancel()
            await asyncio.sleep(0)

    doomed.worker.fault = die
    backtest_id = await harness.submit()
    await _until_phase(harness, backtest_id, "simulating")
    await doomed.runtime.stop()  # and the rest of the process with it: no beats, no sweeps

    survivor = await harness.start_service(runs_consumer=LAST_DELIVERY, **FAST_SWEEP)
    failed = await harness.events.wait_for(backtest_id, "failed", timeout_s=4 * BOUND_S + 30)
    # only a run stale for a bound is swept (the database's own clock: last beat to sweep)
    async with db_engine.connect() as conn:
        stale_s = await conn.scalar(
            text(
                f'SELECT extract(epoch FROM finished_at - heartbeat_at) FROM "{bt_schema}".runs '
                "WHERE backtest_id = :id"
            ),
            {"id": backtest_id},
        )
    assert stale_s >= BOUND_S
    assert failed.data["error_code"] == "worker_lost" and failed.data["user_id"] == "alice"
    assert "no heartbeat" in failed.data["error"]
    status = await harness.call("status", {"backtest_id": backtest_id})
    assert status["status"] == "failed" and status["finished_at"] is not None
    row = await _row(db_engine, bt_schema, backtest_id)
    assert (row.status, row.error_code, row.attempts) == ("failed", "worker_lost", 1)
    await harness.settled()
    assert len(harness.events.of(backtest_id, "failed")) == 1
    assert harness.events.of(backtest_id, "completed") == []
    assert await survivor.sweeper.sweep_once() == []  # nothing is swept twice

    # the command delivered once more after the sweep (the dead worker never claimed it): acked
    # without effect, the run stays failed
    async with db_engine.connect() as conn:
        command = (
            await conn.execute(
                text(f'SELECT subject, payload FROM "{bt_schema}".outbox WHERE event_id = :id'),
                {"id": backtest_id},
            )
        ).one()
    progress_before = len(harness.events.of(backtest_id, "progress"))
    await harness.nc.jetstream().publish(command.subject, bytes(command.payload))

    async def claimed() -> int:
        async with db_engine.connect() as conn:
            return int(
                await conn.scalar(
                    text(f'SELECT count(*) FROM "{bt_schema}".inbox WHERE message_id = :id'),
                    {"id": backtest_id},
                )
            )

    await eventually(claimed, "the re-sent command claimed")
    await harness.settled()
    assert await claimed() == 1
    row = await _row(db_engine, bt_schema, backtest_id)
    assert (row.status, row.error_code, row.attempts) == ("failed", "worker_lost", 1)
    assert len(harness.events.of(backtest_id, "progress")) == progress_before


async def test_a_slow_but_healthy_run_is_not_swept(
    harness: Any, market: Any, db_engine: AsyncEngine, bt_schema: str
) -> None:
    parts = await harness.start_service(**FAST_SWEEP)
    swept: list[list[str]] = []

    async def slow(phase: str) -> None:
        if phase == "simulating":  # twice the bound without any progress update: only beats
            for _ in range(10):
                await asyncio.sleep(BOUND_S / 5)
                swept.append(await parts.sweeper.sweep_once())

    parts.worker.fault = slow
    service_sweeps: list[list[str]] = []
    sweep_once = parts.sweeper.sweep_once

    async def recorded() -> list[str]:  # the service's own sweeper loop calls this
        service_sweeps.append(await sweep_once())
        return service_sweeps[-1]

    parts.sweeper.sweep_once = recorded
    # one bound after start the service's own sweeper is sweeping too
    await eventually(lambda: service_sweeps, "the service's sweeper swept", timeout=4 * BOUND_S + 30)
    backtest_id = await harness.submit()
    completed = await harness.events.wait_for(backtest_id, "completed", timeout_s=30)
    assert swept == [[]] * 10
    assert all(ids == [] for ids in service_sweeps)
    assert harness.events.of(backtest_id, "failed") == []
    row = await _row(db_engine, bt_schema, backtest_id)
    assert (row.status, row.error_code, row.trades) == ("completed", None, completed.data["trade_count"])


async def test_a_run_swept_while_its_worker_was_cut_off_stays_failed_and_gets_no_results(
    harness: Any, market: Any, db_engine: AsyncEngine, bt_schema: str
) -> None:
    parts = await harness.start_service(**FAST_SWEEP)
    parts.worker.beats = False  # its heartbeats do not reach the database
    backtest_id: list[str] = []

    async def cut_off(phase: str) -> None:
        if phase == "simulating":  # stalls until swept, then carries on as if nothing happened
            await harness.events.wait_for(backtest_id[0], "failed", timeout_s=3 * BOUND_S + 5)

    parts.worker.fault = cut_off
    backtest_id.append(await harness.submit())
    failed = await harness.events.wait_for(backtest_id[0], "failed", timeout_s=3 * BOUND_S + 5)
    assert failed.data["error_code"] == "worker_lost"
    await harness.settled()  # the worker finished its simulation, found the run final, acked
    assert harness.events.of(backtest_id[0], "completed") == []
    assert len(harness.events.of(backtest_id[0], "failed")) == 1
    row = await _row(db_engine, bt_schema, backtest_id[0])
    assert (row.status, row.error_code, row.trades) == ("failed", "worker_lost", 0)
    with pytest.raises(RemoteError) as caught:
        await harness.call("results", {"backtest_id": backtest_id[0]})
    assert caught.value.code == "conflict"
    parts.worker.fault = None
    parts.worker.beats = True
    after = await harness.submit()  # the worker goes on with other runs
    await harness.events.wait_for(after, "completed", timeout_s=20)


async def test_a_queued_run_is_swept_only_when_its_command_is_gone(
    harness: Any, market: Any, db_engine: AsyncEngine, bt_schema: str
) -> None:
    parts = await harness.start_service(**FAST_SWEEP)
    release = asyncio.Event()

    async def hold(phase: str) -> None:
        if phase == "fetching":
            await release.wait()  # the only worker is busy: the next command waits in the queue

    parts.worker.fault = hold
    busy = await harness.submit()
    await harness.events.wait_for(busy, "progress")
    waiting = await harness.submit()
    async with db_engine.begin() as conn:
        await conn.execute(  # a queued run as old as the bound still has its command in the queue
            text(
                f"UPDATE \"{bt_schema}\".runs SET created_at = now() - interval '1 hour' "
                "WHERE backtest_id = :id"
            ),
            {"id": waiting},
        )
    assert await parts.sweeper.sweep_once() == []
    parts.worker.fault = None
    release.set()
    await harness.events.wait_for(waiting, "completed", timeout_s=20)

    async with db_engine.begin() as conn:  # a run whose command was consumed without starting it
        await conn.execute(
            text(
                f'INSERT INTO "{bt_schema}".runs (backtest_id, user_id, status, strategy, params, symbol, '
                "timeframe, request, created_at) VALUES ('lost-run', 'alice', 'queued', 'sma_cross', "
                "'{}'::jsonb, 'BTC/USDT', '1h', '{}'::jsonb, now() - interval '1 hour')"
            )
        )
    for _ in range(50):  # until the queue reports nothing pending or in flight
        if await parts.sweeper.sweep_once() == ["lost-run"]:
            break
        await asyncio.sleep(0.1)
    failed = await harness.events.wait_for("lost-run", "failed", timeout_s=5)
    assert failed.data["error_code"] == "worker_lost"
    row = await _row(db_engine, bt_schema, "lost-run")
    assert (row.status, row.error_code) == ("failed", "worker_lost")
