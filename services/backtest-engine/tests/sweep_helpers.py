"""Helpers of the distributed-sweep tests: the stored table page by page, who evaluated the chunks,
and ``evaluate`` on the stand-in's bars."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tradeloom.backtest_engine.domain.optimisation import quant_bars
from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.backtest_engine.store.chunks_store import ChunksStore
from tradeloom.quant.optimise import SearchResults, evaluate, grid_candidates
from tradeloom.shared.contracts.backtest import SubmitBacktest


async def all_rows(harness: Any, backtest_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await harness.call(
            "optimisation_rows", {"backtest_id": backtest_id, "limit": 100, "cursor": cursor}
        )
        rows.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return rows


async def chunk_workers(harness: Any, backtest_id: str) -> tuple[dict[str, int], int]:
    async with harness.engine.connect() as conn:
        workers = await ChunksStore(harness.schema).workers(conn, backtest_id)
        total = await conn.scalar(
            text(f'SELECT count(*) FROM "{harness.schema}".sweep_chunks WHERE backtest_id = :id'),
            {"id": backtest_id},
        )
    return workers, int(total or 0)


def direct(market: Any, body: dict[str, Any], grid: dict[str, list[int]]) -> SearchResults:
    """``evaluate`` over the whole grid on the stand-in's bars, annualised as the worker does."""
    plan = plan_run(SubmitBacktest.model_validate(body))
    b = market.bars
    keep = (b["time"] >= plan.start_ns) & (b["time"] <= plan.end_ns)
    arrays = BarArrays(*(b[k][keep] for k in ("time", "open", "high", "low", "close", "volume")))
    plan = with_bars(plan, arrays.time, 3_600 * 10**9)
    candidates = [{**plan.params, **c} for c in grid_candidates(grid)]
    return evaluate("sma_cross", candidates, quant_bars(arrays), plan.config,
                    plan.costs, periods_per_year=plan.periods_per_year)  # fmt: skip
