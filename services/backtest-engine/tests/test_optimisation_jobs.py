"""Optimisation jobs (grid, random, walk-forward) through the service, equal to tradeloom.quant called
directly on the same bars; ownership, kinds, cancel between chunks."""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest

from tradeloom.backtest_engine.domain.optimisation import quant_bars
from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.quant.optimise import evaluate, grid_candidates, random_candidates, walk_forward
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.polling import eventually

GRID = {"fast": {"min": 5, "max": 25, "step": 5}, "slow": {"values": [20, 40, 60]}}


def direct(harness: Any, market: Any, body: dict[str, Any]) -> tuple[Any, Any]:
    """(plan, quant bars) for ``body`` on the fake market's bars inside the requested range, the plan
    annualised on them as the worker does."""
    plan = plan_run(SubmitBacktest.model_validate(body))
    b = market.bars
    keep = (b["time"] >= plan.start_ns) & (b["time"] <= plan.end_ns)
    arrays = BarArrays(*(b[k][keep] for k in ("time", "open", "high", "low", "close", "volume")))
    return with_bars(plan, arrays.time, 3_600 * 10**9), quant_bars(arrays)


def none_or(value: float) -> float | None:
    return value if math.isfinite(value) else None


async def test_grid_search_equals_quant_evaluate(harness: Any, market: Any) -> None:
    await harness.start_service(optimise_chunk_bar_evaluations=2000)  # several chunks
    body = harness.body(optimise={"space": GRID, "metric": "total_return"})
    backtest_id = (await harness.call("submit", body))["backtest_id"]
    await harness.events.wait_for(backtest_id, "completed", timeout_s=60)
    plan, bars = direct(harness, market, body)
    candidates = [
        {**plan.params, **c} for c in grid_candidates({"fast": [5, 10, 15, 20, 25], "slow": [20, 40, 60]})
    ]
    expected = evaluate(
        "sma_cross", candidates, bars, plan.config, plan.costs, periods_per_year=plan.periods_per_year
    )

    outcome = await harness.call("optimisation", {"backtest_id": backtest_id})
    best, value = expected.best("total_return")
    assert outcome["best_params"] == best and outcome["best_value"] == value
    assert (outcome["kind"], outcome["evaluated"], outcome["skipped"]) == (
        "search",
        len(expected),
        expected.skipped,
    )
    assert expected.skipped == 2  # fast 20 / 25 with slow 20

    rows: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await harness.call(
            "optimisation_rows", {"backtest_id": backtest_id, "limit": 5, "cursor": cursor}
        )
        rows.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert page["total"] == len(rows) == len(expected)
    for got, want in zip(rows, expected.rows(), strict=True):
        assert got["params"]["fast"] == want["fast"] and got["params"]["slow"] == want["slow"]
        assert got["metrics"] == {k: none_or(want[k]) for k in expected.metrics}
    ranked = await harness.call(
        "optimisation_rows", {"backtest_id": backtest_id, "sort_by": "total_return", "limit": 3}
    )
    assert ranked["items"][0]["params"] == best
    tops = [r["metrics"]["total_return"] for r in ranked["items"]]
    assert tops == sorted(tops, reverse=True)

    heat = await harness.call("optimisation_heatmap", {"backtest_id": backtest_id, "x": "fast", "y": "slow"})
    xs, ys, grid = expected.heatmap("fast", "slow", "total_return")
    assert heat["x_values"] == xs.tolist() and heat["y_values"] == ys.tolist()
    assert heat["values"] == [[none_or(v) for v in row] for row in grid.tolist()]
    bad = await error(
        harness, "optimisation_heatmap", {"backtest_id": backtest_id, "x": "fast", "y": "window"}
    )
    assert bad.code == "validation_error" and bad.details["fields"][0]["field"] == "y"
    assert (await error(harness, "results", {"backtest_id": backtest_id})).code == "conflict"
    listed = await harness.call("list", {"kind": "search"})
    assert [i["backtest_id"] for i in listed["items"]] == [backtest_id]

    for op, req in [
        ("optimisation", {"backtest_id": backtest_id}),
        ("optimisation_rows", {"backtest_id": backtest_id}),
    ]:
        assert (await error(harness, op, req, user="bob")).code == "not_found"


async def test_random_search_equals_quant_on_the_same_draws(harness: Any, market: Any) -> None:
    await harness.start_service()
    space = {
        "fast": {"min": 3, "max": 15},
        "slow": {"min": 20, "max": 80},
        "allow_short": {"values": [True, False]},
    }
    body = harness.body(optimise={"method": "random", "count": 25, "seed": 4, "space": space})
    backtest_id = (await harness.call("submit", body))["backtest_id"]
    await harness.events.wait_for(backtest_id, "completed", timeout_s=60)
    plan, bars = direct(harness, market, body)
    draws = random_candidates(
        "sma_cross", {"fast": (3.0, 15.0), "slow": (20.0, 80.0), "allow_short": [True, False]}, 25, 4
    )
    expected = evaluate("sma_cross", [{**plan.params, **d} for d in draws], bars, plan.config, plan.costs,
                        periods_per_year=plan.periods_per_year)  # fmt: skip
    outcome = await harness.call("optimisation", {"backtest_id": backtest_id})
    assert (outcome["best_params"], outcome["best_value"]) == expected.best("sharpe")
    page = await harness.call("optimisation_rows", {"backtest_id": backtest_id, "limit": 1000})
    assert [r["params"]["slow"] for r in page["items"]] == expected.params["slow"].tolist()


async def test_walk_forward_equals_quant_walk_forward(harness: Any, market: Any) -> None:
    await harness.start_service(optimise_chunk_bar_evaluations=500)
    wf = {"in_sample_bars": 200, "out_of_sample_bars": 80}
    body = harness.body(
        end="2024-01-26T00:00:00Z",
        optimise={"space": GRID, "metric": "total_return", "walk_forward": wf},
    )
    backtest_id = (await harness.call("submit", body))["backtest_id"]
    completed = await harness.events.wait_for(backtest_id, "completed", timeout_s=60)
    plan, bars = direct(harness, market, body)
    candidates = [
        {**plan.params, **c} for c in grid_candidates({"fast": [5, 10, 15, 20, 25], "slow": [20, 40, 60]})
    ]
    expected = walk_forward("sma_cross", candidates, bars, 200, 80, config=plan.config, costs=plan.costs,
                            metric="total_return", periods_per_year=plan.periods_per_year)  # fmt: skip
    outcome = await harness.call("optimisation", {"backtest_id": backtest_id})
    assert outcome["kind"] == "walk_forward" and len(outcome["folds"]) == len(expected.folds) >= 3
    held = await harness.call("positions", {"backtest_id": backtest_id})
    assert held["position"]["values"] == expected.position.tolist()
    for got, want in zip(outcome["folds"], expected.folds, strict=True):
        assert got["params"] == want.params and got["in_sample_value"] == none_or(want.in_sample_value)
        assert tuple(got["in_sample"]) == want.in_sample and tuple(got["out_of_sample"]) == want.out_of_sample
        assert got["out_of_sample_metrics"] == {k: none_or(v) for k, v in want.out_of_sample_metrics.items()}
    curves = await harness.call("equity", {"backtest_id": backtest_id, "max_points": 2000})
    assert curves["total_points"] == expected.equity.size == completed.data["bar_count"]
    assert curves["equity"]["values"] == expected.equity.tolist()
    assert curves["equity"]["t_ns"] == bars.time[expected.index].tolist()
    results = await harness.call("results", {"backtest_id": backtest_id})
    assert results["metrics"] == {k: none_or(v) for k, v in expected.metrics.items()}
    rows = await error(harness, "optimisation_rows", {"backtest_id": backtest_id})
    assert rows.code == "conflict"


async def test_walk_forward_longer_than_the_data_fails_clearly(harness: Any, market: Any) -> None:
    await harness.start_service()
    wf = {"in_sample_bars": 5000, "out_of_sample_bars": 100}
    backtest_id = await harness.submit(optimise={"space": GRID, "walk_forward": wf})
    failed = await harness.events.wait_for(backtest_id, "failed")
    assert failed.data["error_code"] == "invalid_request" and "optimise.walk_forward" in failed.data["error"]


async def test_too_much_work_is_refused_before_running(harness: Any, market: Any) -> None:
    await harness.start_service(max_bar_evaluations=1000)
    backtest_id = await harness.submit(optimise={"space": GRID})
    failed = await harness.events.wait_for(backtest_id, "failed")
    assert failed.data["error_code"] == "too_much_work"


async def test_cancel_is_honoured_between_chunks(harness: Any, market: Any) -> None:
    parts = await harness.start_service(optimise_chunk_bar_evaluations=1500)  # 2 candidates per chunk

    async def slow(phase: str) -> None:
        if phase in ("optimising", "chunk"):  # the run's phase and each of its chunks (sweep_job.py)
            await asyncio.sleep(0.3)

    parts.worker.fault = slow
    space = {"fast": {"min": 2, "max": 19, "step": 1}, "slow": {"min": 20, "max": 60, "step": 10}}
    backtest_id = await harness.submit(optimise={"space": space})

    def optimising() -> list[float]:
        progress = harness.events.of(backtest_id, "progress")
        return [e.data["percent"] for e in progress if e.data["phase"] == "optimising"]

    await eventually(optimising, "the optimisation started")
    assert (await harness.call("cancel", {"backtest_id": backtest_id}))["status"] == "running"
    await harness.events.wait_for(backtest_id, "cancelled", timeout_s=30)
    await harness.settled()
    assert harness.events.of(backtest_id, "completed") == []
    # 90 candidates in chunks of 2: stopped between chunks, long before the last (90 % = all done)
    assert max(optimising()) < 85
    assert (await error(harness, "optimisation", {"backtest_id": backtest_id})).code == "conflict"


async def error(harness: Any, op: str, body: dict[str, Any], user: str = "alice") -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        await harness.call(op, body, user=user)
    return caught.value


def test_metric_names_are_quants_summary_columns() -> None:
    import typing

    from tradeloom.quant.optimise import SUMMARY_COLUMNS
    from tradeloom.shared.contracts.backtest_optimise import MetricName

    assert typing.get_args(MetricName) == SUMMARY_COLUMNS
