"""Submit → completed over real NATS and Postgres; the stored results equal tradeloom.quant's own."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from sqlalchemy import text

from tradeloom.quant.fills import CommissionModel, Costs
from tradeloom.quant.metrics import compute_metrics
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, TradeColumn, run_simulation
from tradeloom.quant.strategies import OhlcArrays, strategy_signals
from tradeloom.shared.contracts.backtest import BacktestCompleted

PERIODS_PER_YEAR = 365 * 24  # hourly bars on a 365-day year


def direct_quant_run(bars: dict[str, np.ndarray]) -> tuple[Any, dict[str, float]]:
    """The same backtest computed by calling tradeloom.quant directly."""
    signals = strategy_signals(
        "sma_cross",
        OhlcArrays(bars["open"], bars["high"], bars["low"], bars["close"]),
        {"fast": 5, "slow": 20},
    )
    costs = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=0.001, taker_rate=0.001)
    result = run_simulation(
        Bars(bars["open"], bars["high"], bars["low"], bars["close"], bars["volume"], bars["time"]),
        Signals(*signals),
        SimulationConfig(initial_cash=10_000.0),
        costs,
        periods_per_year=PERIODS_PER_YEAR,
    )
    report = compute_metrics(
        result, bars["close"], 10_000.0, periods_per_year=PERIODS_PER_YEAR, time=bars["time"]
    )
    return result, report.metrics


def same_metric(stored: float | None, expected: float) -> bool:
    if stored is None:
        return not math.isfinite(expected)
    return math.isclose(stored, expected, rel_tol=1e-12, abs_tol=1e-12)


async def test_submit_runs_to_completion_with_quant_results(harness: Any, market: Any) -> None:
    await harness.start_service()
    backtest_id = await harness.submit()
    done = await harness.events.wait_for(backtest_id, "completed")
    completed = done.unwrap(BacktestCompleted)
    assert completed.user_id == "alice"

    result, metrics = direct_quant_run(market.bars)
    assert completed.bar_count == 600
    assert completed.trade_count == len(result.trades)
    assert float(completed.final_equity) == pytest.approx(float(result.equity[-1]), rel=1e-12)

    phases = [e.data["phase"] for e in harness.events.of(backtest_id, "progress")]
    assert phases[0] == "fetching" and "simulating" in phases and phases[-1] == "storing"
    assert all(e.data["user_id"] == "alice" for e in harness.events.of(backtest_id))

    status = await harness.call("status", {"backtest_id": backtest_id})
    assert status["status"] == "completed" and status["percent"] == 100 and status["phase"] == "done"

    results = await harness.call("results", {"backtest_id": backtest_id})
    assert results["bar_count"] == 600 and results["trade_count"] == len(result.trades)
    assert set(results["metrics"]) == set(metrics)
    for name, expected in metrics.items():
        assert same_metric(results["metrics"][name], expected), name
    assert results["max_drawdown"]["depth"] == pytest.approx(metrics["max_drawdown"])

    # trades: paginated, every page in order, the same records the simulator produced
    table = result.trades.table
    records: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await harness.call("trades", {"backtest_id": backtest_id, "limit": 7, "cursor": cursor})
        records += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [r["seq"] for r in records] == list(range(len(table)))
    assert [float(r["pnl"]) for r in records] == table[:, int(TradeColumn.PNL)].tolist()
    assert [r["entry_ns"] for r in records] == market.bars["time"][result.trades.entry_index].tolist()
    assert {r["direction"] for r in records} == {"long"}

    equity = await harness.call("equity", {"backtest_id": backtest_id, "max_points": 100})
    assert equity["total_points"] == 600
    assert len(equity["equity"]["values"]) == 100 and len(equity["drawdown"]["values"]) == 100
    assert equity["equity"]["t_ns"][0] == market.bars["time"][0]
    assert equity["equity"]["values"][-1] == float(result.equity[-1])
    assert min(equity["drawdown"]["values"]) >= metrics["max_drawdown"] - 1e-12
    assert set(equity["equity"]["values"]) <= set(result.equity.tolist())


async def test_export_writes_full_series_csv_to_the_object_store(harness: Any, market: Any) -> None:
    parts = await harness.start_service()
    backtest_id = await harness.submit()
    await harness.events.wait_for(backtest_id, "completed")
    result, _ = direct_quant_run(market.bars)

    ready = await harness.call("export", {"backtest_id": backtest_id, "kind": "equity"})
    assert ready["bucket"] == harness.subjects.stream("BACKTEST_EXPORTS") and ready["rows"] == 600
    store = await parts.runtime.js.object_store(ready["bucket"])
    lines = (await store.get(ready["object_name"])).data.decode().splitlines()
    assert lines[0] == "time_ns,equity,drawdown" and len(lines) == 601
    assert [float(line.split(",")[1]) for line in lines[1:]] == result.equity.tolist()

    trades = await harness.call("export", {"backtest_id": backtest_id, "kind": "trades"})
    rows = (await store.get(trades["object_name"])).data.decode().splitlines()
    assert len(rows) == len(result.trades) + 1 and rows[0].startswith("seq,direction")
    assert trades["size_bytes"] == len("\n".join(rows)) + 1


async def test_list_filters_paginates_and_compare_sets_runs_side_by_side(harness: Any, market: Any) -> None:
    await harness.start_service()
    first = await harness.submit()
    second = await harness.submit(strategy="ema_cross", params={"fast": 5, "slow": 30})
    third = await harness.submit(params={"fast": 10, "slow": 40})
    for backtest_id in (first, second, third):
        await harness.events.wait_for(backtest_id, "completed")

    page = await harness.call("list", {"limit": 2})
    assert [item["backtest_id"] for item in page["items"]] == [third, second]
    rest = await harness.call("list", {"limit": 2, "cursor": page["next_cursor"]})
    assert [item["backtest_id"] for item in rest["items"]] == [first] and rest["next_cursor"] is None
    only_sma = await harness.call("list", {"strategy": "sma_cross"})
    assert [item["backtest_id"] for item in only_sma["items"]] == [third, first]
    assert (await harness.call("list", {"status": "failed"}))["items"] == []

    comparison = await harness.call("compare", {"backtest_ids": [first, second]})
    assert [item["summary"]["backtest_id"] for item in comparison["items"]] == [first, second]
    assert "sharpe" in comparison["metric_names"]
    assert comparison["items"][0]["metrics"]["trades"] != comparison["items"][1]["metrics"]["trades"]

    stored = f'SELECT count(*) FROM "{harness.schema}".trades WHERE backtest_id = :id'
    async with harness.engine.connect() as conn:
        assert await conn.scalar(text(stored), {"id": first}) > 0
    assert (await harness.call("delete", {"backtest_id": first}))["deleted"] is True
    with pytest.raises(Exception, match="no backtest"):
        await harness.call("status", {"backtest_id": first})
    async with harness.engine.connect() as conn:  # trades go with their run (trigger, migration 0013)
        assert await conn.scalar(text(stored), {"id": first}) == 0
        assert await conn.scalar(text(stored), {"id": second}) > 0
