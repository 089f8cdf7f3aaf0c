"""kill -9 mid-sweep: a replica process (``ServiceProcess``) dies while evaluating a chunk of a
distributed search; the other replica (in-process) takes the chunk when JetStream redelivers it and
the merged table equals ``evaluate`` on the whole grid, with every chunk counted once (a duplicate
chunk command changes nothing) and one ``completed`` event."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

# test helpers next to the tests are imported by their module name (conftest puts them on the path)
from sweep_helpers import all_rows, direct

from tradeloom.backtest_engine.store.chunks_store import ChunksStore
from tradeloom.backtest_engine.worker import RUNS_CONSUMER
from tradeloom.shared.contracts.backtest import RunChunkCommand
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.publish import make_envelope
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.processes import ServiceProcess

pytestmark = pytest.mark.timeout(600)  # a service start-up on a loaded machine and a redelivery
BACKOFF = {RUNS_CONSUMER.durable: (2.0, 2.0, 2.0)}  # as the in-process replica's (conftest)
CHUNK = 1500  # 2 of the 15 candidates on 600 bars: 8 chunks
GRID = {"fast": {"min": 5, "max": 25, "step": 5}, "slow": {"values": [20, 40, 60]}}


async def test_a_replica_killed_mid_chunk_leaves_the_sweep_complete_and_exact(
    harness: Any, gated_market: Any, tmp_path: Path, database_url: str, nats_url: str, nats_prefix: str
) -> None:
    a = await harness.start_service(optimise_chunk_bar_evaluations=CHUNK)
    release = asyncio.Event()
    in_chunk = asyncio.Event()

    async def hold(phase: str) -> None:  # replica a keeps its first chunk until released
        if phase == "chunk":
            in_chunk.set()
            await release.wait()

    a.worker.fault = hold
    market = gated_market
    market.gate.set()
    body = harness.body(optimise={"space": GRID, "metric": "total_return"})
    backtest_id = (await harness.call("submit", body))["backtest_id"]
    await eventually(in_chunk.is_set, "replica a took a chunk")
    market.gate.clear()  # replica b's candle request now waits: it is mid-chunk when killed

    settings: dict[str, object] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix,
        "db_schema": harness.schema, "environment": "test", "market_data_timeout_s": 60,
        "optimise_chunk_bar_evaluations": CHUNK,
    }  # fmt: skip
    with ServiceProcess("backtest_engine", settings, tmp_path, BACKOFF) as b:
        await asyncio.to_thread(b.start)
        await eventually(lambda: market.calls >= 2, "replica b asked for the bars of its chunk", timeout=60)
        assert await asyncio.to_thread(b.kill) == -signal.SIGKILL
    duplicate = RunChunkCommand(backtest_id=backtest_id, user_id="alice", seq=0)  # a second copy of chunk 0
    envelope = make_envelope(duplicate, "test", event_id=new_event_id(), subject=backtest_id)
    subject = harness.subjects.command("backtest", "chunk", 1)
    await harness.nc.jetstream().publish(subject, envelope.to_bytes())
    market.gate.set()
    release.set()

    await harness.events.wait_for(backtest_id, "completed", timeout_s=120)
    await harness.settled(timeout_s=60)
    assert len(harness.events.of(backtest_id, "completed")) == 1
    async with harness.engine.connect() as conn:
        workers = await ChunksStore(harness.schema).workers(conn, backtest_id)
        total = await conn.scalar(
            text(f'SELECT count(*) FROM "{harness.schema}".sweep_chunks WHERE backtest_id = :id'),
            {"id": backtest_id},
        )
    assert total == 8 and workers == {a.worker.sweeps.replica: 8}  # b's chunk was taken over
    expected = direct(market, body, {"fast": [5, 10, 15, 20, 25], "slow": [20, 40, 60]})
    rows = await all_rows(harness, backtest_id)
    assert len(rows) == len(expected) == 13  # 15 less the two refused (fast 20/25 with slow 20)
    for got, want in zip(rows, expected.rows(), strict=True):
        assert (got["params"]["fast"], got["params"]["slow"]) == (want["fast"], want["slow"])
        assert got["metrics"]["total_return"] == want["total_return"]
