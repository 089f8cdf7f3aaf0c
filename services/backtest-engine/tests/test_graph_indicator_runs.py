"""Backtests of saved graphs using a Python user indicator: its series come from one real
sandbox-executor run per node, and the trades equal the same graph fed the indicator computed by
the plain Python function in this process; an error in the code fails the run naming the node and
the line; an output the code does not give names the node and port; the sandbox down fails the run
``sandbox_unavailable`` on its last delivery."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from nats.aio.client import Client
from saved_kit import real_sandbox, saved_body, saved_versions

from tradeloom.backtest_engine.domain.run_plan import plan_run
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.backtest_engine.worker import RUNS_CONSUMER
from tradeloom.quant.simulator import Bars
from tradeloom.shared.contracts.backtest import BacktestCompleted, BacktestFailed, SubmitBacktest
from tradeloom.shared.contracts.strategy import StrategyVersionInfo, StrategyVersionRef
from tradeloom.shared.rpc import RemoteError
from tradeloom.shared.testing.sandbox_uids import uid_base

UID_BASE = uid_base(243_000)  # apart from the service default and the other sandbox tests
# two moving averages written by a user, with plain Python loops
INDICATOR = """import math


def mean(values, n):
    out = []
    for i in range(len(values)):
        window = values[max(0, i - n + 1) : i + 1]
        out.append(sum(window) / n if len(window) == n else math.nan)
    return out


def compute(bars, params):
    close = [float(c) for c in bars["close"]]
    return {"quick": mean(close, int(params["fast"])), "calm": mean(close, int(params["slow"]))}
"""
FAILING = "def compute(bars, params):\n    return {'quick': len(bars) / 0}\n"
PARAMS = {"fast": 4, "slow": 15}
LAST_DELIVERY = dataclasses.replace(RUNS_CONSUMER, max_deliver=1, backoff_s=(2.0,))


def graph(code: str, read: tuple[str, str] = ("quick", "calm")) -> dict[str, Any]:
    """Enter when ``quick`` crosses above ``calm``, exit when below, from a Python indicator node
    ``ind`` holding ``code`` (as strategy-runner saves it)."""
    ref = {
        "indicator_id": "0190a5f2-7c1e-7b3a-9d4e-2f6a1b3c4d5e",
        "version": 1,
        "code": code,
        "params": PARAMS,
    }
    quick, calm = ({"source": "ind", "source_port": port} for port in read)
    return {
        "nodes": [
            {"id": "ind", "type": "user_indicator", "indicator": ref},
            {"id": "up", "type": "cross.above"},
            {"id": "down", "type": "cross.below"},
            {"id": "enter", "type": "sink.enter_long"},
            {"id": "exit", "type": "sink.exit_long"},
        ],
        "edges": [
            {**quick, "target": "up", "target_port": "a"},
            {**calm, "target": "up", "target_port": "b"},
            {**quick, "target": "down", "target_port": "a"},
            {**calm, "target": "down", "target_port": "b"},
            {"source": "up", "target": "enter", "target_port": "when"},
            {"source": "down", "target": "exit", "target_port": "when"},
        ],
    }


GRAPHS = {
    "s-py": graph(INDICATOR),
    "s-failing": graph(FAILING),
    "s-wrong": graph(INDICATOR, ("quick", "slow")),
}


def graph_version(body: StrategyVersionRef) -> StrategyVersionInfo:
    """strategy-runner's saved graph versions, as its ``strategy_versions_get`` answers them."""
    return StrategyVersionInfo(
        strategy_id=body.strategy_id, version=1, kind="graph", template="graph", params={},
        graph=GRAPHS[body.strategy_id], created_at=datetime.now(UTC),
    )  # fmt: skip


@pytest.fixture
async def sandbox(
    pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, nc: Client
) -> AsyncIterator[None]:
    async with real_sandbox(pg_server, database_url, nats_url, nats_prefix, nc, UID_BASE):
        yield


def direct_trades(body: dict[str, Any], walk: dict[str, np.ndarray]) -> np.ndarray:
    """The same graph backtested here, its indicator computed by the plain Python function."""
    namespace: dict[str, Any] = {}
    exec(compile(INDICATOR, "<indicator>", "exec"), namespace)
    series = namespace["compute"]({k: walk[k] for k in ("open", "high", "low", "close", "volume")}, PARAMS)
    external = {"ind": {name: np.asarray(values, dtype=np.float64) for name, values in series.items()}}
    plan = plan_run(SubmitBacktest.model_validate(body | {"strategy": "graph", "graph": GRAPHS["s-py"]}))
    assert plan.graph is not None
    bars = BarArrays(walk["time"], walk["open"], walk["high"], walk["low"], walk["close"], walk["volume"])
    quant_bars = Bars(bars.open, bars.high, bars.low, bars.close, bars.volume, bars.time)
    return run_backtest(plan, bars, plan.graph.signals(quant_bars, external)).trades


async def test_a_graph_with_a_python_indicator_trades_like_the_function_run_here(
    harness: Any, start_market: Any, sandbox: None
) -> None:
    market = await start_market()
    async with saved_versions(harness, graph_version):
        await harness.start_service()
        saved = saved_body(harness)
        runs = {
            sid: (await harness.call("submit", saved | {"strategy_id": sid}))["backtest_id"] for sid in GRAPHS
        }
        done = (await harness.events.wait_for(runs["s-py"], "completed", 90)).unwrap(BacktestCompleted)
        trades = (await harness.call("trades", {"backtest_id": runs["s-py"], "limit": 500}))["items"]
        expected = direct_trades(saved, market.bars)
        assert done.trade_count == len(trades) == len(expected) > 3
        assert [(t["entry_index"], t["exit_index"]) for t in trades] == [
            (int(r[1]), int(r[2])) for r in expected
        ]
        np.testing.assert_allclose([float(Decimal(t["pnl"])) for t in trades], expected[:, 6], rtol=1e-9)
        status = await harness.call("status", {"backtest_id": runs["s-py"]})
        assert status["strategy"] == "graph" and status["strategy_version"] == 1

        failed = (await harness.events.wait_for(runs["s-failing"], "failed", 90)).unwrap(BacktestFailed)
        assert failed.error_code == "user_code_failed"
        assert "node ind: line 2: compute raised ZeroDivisionError" in failed.error
        wrong = (await harness.events.wait_for(runs["s-wrong"], "failed", 90)).unwrap(BacktestFailed)
        assert wrong.error_code == "user_code_failed"
        assert "node ind: the indicator gave no output 'slow' (its outputs: calm, quick)" in wrong.error

        with pytest.raises(RemoteError) as direct:  # the source only comes from a saved graph
            await harness.call("submit", saved | {"graph": GRAPHS["s-py"]})
        assert direct.value.details["fields"][0]["field"] == "graph.nodes.ind.indicator"
        await harness.settled()


async def test_the_sandbox_down_fails_the_run_on_its_last_delivery(harness: Any, start_market: Any) -> None:
    await start_market()
    async with saved_versions(harness, graph_version):
        await harness.start_service(runs_consumer=LAST_DELIVERY)
        saved = saved_body(harness)
        run = (await harness.call("submit", saved | {"strategy_id": "s-py"}))["backtest_id"]
        failed = (await harness.events.wait_for(run, "failed", 60)).unwrap(BacktestFailed)
        assert failed.error_code == "sandbox_unavailable"
        assert "sandbox-executor" in failed.error
