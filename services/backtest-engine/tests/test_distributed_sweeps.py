"""Searches bigger than one chunk spread over every replica (sweep_job.py): two replicas on the same
NATS and Postgres both take chunks, and the merged table equals a single-replica run and
``tradeloom.quant.optimise.evaluate`` row for row; every chunk is counted once."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

# test helpers next to the tests are imported by their module name (conftest puts them on the path)
from sweep_helpers import all_rows, chunk_workers, direct

from tradeloom.backtest_engine.domain.sweep import ChunkSpec, pack_table, plan_chunks, unpack_table
from tradeloom.quant.optimise import SearchResults

GRID = {"fast": {"min": 4, "max": 24, "step": 4}, "slow": {"values": [20, 30, 40, 60]}}
CHUNK = 1500  # simulated bars per chunk: 2 of the 24 candidates on 600 bars, so 12 chunks


async def test_two_replicas_share_a_search_and_merge_it_once(harness: Any, start_market: Any) -> None:
    market = await start_market()
    a = await harness.start_service(optimise_chunk_bar_evaluations=CHUNK)
    b = await harness.start_service(optimise_chunk_bar_evaluations=CHUNK)
    started = {"a": asyncio.Event(), "b": asyncio.Event()}

    def meet(me: str, other: str) -> Any:
        async def fault(phase: str) -> None:  # each replica's first chunk waits for the other's
            if phase == "chunk":
                started[me].set()
                await asyncio.wait_for(started[other].wait(), 60)

        return fault

    a.worker.fault, b.worker.fault = meet("a", "b"), meet("b", "a")
    body = harness.body(optimise={"space": GRID, "metric": "total_return"})
    shared = (await harness.call("submit", body))["backtest_id"]
    await harness.events.wait_for(shared, "completed", timeout_s=90)
    workers, chunks = await chunk_workers(harness, shared)
    assert chunks == 12 and sum(workers.values()) == chunks
    assert set(workers) == {a.worker.sweeps.replica, b.worker.sweeps.replica}  # both took chunks

    await b.runtime.stop()  # the same search on one replica
    alone = (await harness.call("submit", body))["backtest_id"]
    await harness.events.wait_for(alone, "completed", timeout_s=90)
    assert (await chunk_workers(harness, alone))[0] == {a.worker.sweeps.replica: 12}

    expected = direct(market, body, {"fast": [4, 8, 12, 16, 20, 24], "slow": [20, 30, 40, 60]})
    rows_shared, rows_alone = await all_rows(harness, shared), await all_rows(harness, alone)
    assert rows_shared == rows_alone and len(rows_shared) == len(expected) == 24 - expected.skipped
    for got, want in zip(rows_shared, expected.rows(), strict=True):
        assert (got["params"]["fast"], got["params"]["slow"]) == (want["fast"], want["slow"])
    outcome = await harness.call("optimisation", {"backtest_id": shared})
    assert (outcome["best_params"], outcome["best_value"]) == expected.best("total_return")
    await harness.settled()
    assert len(harness.events.of(shared, "completed")) == 1


def test_chunks_cover_every_candidate_once_and_tables_round_trip() -> None:
    chunks = plan_chunks(7, [(0, 100), (50, 150)], 250)  # 2 per chunk (250 // 100)
    assert [(c.fold, c.first, c.count) for c in chunks] == [
        (0, 0, 2), (0, 2, 2), (0, 4, 2), (0, 6, 1), (1, 0, 2), (1, 2, 2), (1, 4, 2), (1, 6, 1),
    ]  # fmt: skip
    assert chunks[5] == ChunkSpec(5, 1, 2, 2, 50, 150)
    table = SearchResults("sma_cross", {"fast": np.array([3, 5]), "allow_short": np.array([True, False])},
                          {"sharpe": np.array([0.5, np.nan])}, 4)  # fmt: skip
    back = unpack_table("sma_cross", pack_table(table))
    assert back.params["fast"].dtype == table.params["fast"].dtype and back.skipped == 4
    assert list(back.params) == ["fast", "allow_short"] and back.params["allow_short"].tolist() == [
        True,
        False,
    ]
    np.testing.assert_array_equal(back.metrics["sharpe"], table.metrics["sharpe"])
