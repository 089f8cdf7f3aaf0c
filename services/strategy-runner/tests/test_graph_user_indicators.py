"""``user_indicator`` nodes in strategy graphs: the pure inlining and its issues (node and port),
then over real NATS and Postgres a saved graph using one of the caller's graph indicators, whose
backtest (backtest-engine's plan and simulator) equals the same graph with the indicator's nodes
written in by hand."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sr_caller import Caller, fields

from tradeloom.backtest_engine.domain.run_plan import plan_run
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.strategy_runner.domain.graph import GraphRefused, compiled
from tradeloom.strategy_runner.domain.graph_user_indicators import IndicatorVersion, inline

REF = {"indicator_id": "0190a5f2-7c1e-7b3a-9d4e-2f6a1b3c4d5e", "version": 2}


def bands(fast: int = 3, slow: int = 8) -> dict[str, Any]:
    """An indicator graph: outputs ``quick`` and ``calm``, two SMAs of the close."""
    return {
        "nodes": [
            {"id": "close", "type": "input.close"},
            {"id": "f", "type": "indicator.sma", "params": {"window": fast}},
            {"id": "s", "type": "indicator.sma", "params": {"window": slow}},
            {"id": "quick", "type": "sink.output"},
            {"id": "calm", "type": "sink.output"},
        ],
        "edges": [
            {"source": "close", "target": "f", "target_port": "in"},
            {"source": "close", "target": "s", "target_port": "in"},
            {"source": "f", "target": "quick", "target_port": "value"},
            {"source": "s", "target": "calm", "target_port": "value"},
        ],
    }


def crossing(indicator: dict[str, Any] | None) -> dict[str, Any]:
    """Enter when ``quick`` crosses above ``calm``, exit when below: from a ``user_indicator`` node
    ``ind`` naming ``indicator``, or (None) with the same SMAs written in as ``ind.f``/``ind.s``."""
    if indicator is None:
        head = [
            {"id": "ind.close", "type": "input.close"},
            {"id": "ind.f", "type": "indicator.sma", "params": {"window": 3}},
            {"id": "ind.s", "type": "indicator.sma", "params": {"window": 8}},
        ]
        wires = [
            {"source": "ind.close", "target": "ind.f", "target_port": "in"},
            {"source": "ind.close", "target": "ind.s", "target_port": "in"},
        ]
        quick, calm = {"source": "ind.f"}, {"source": "ind.s"}
    else:
        head, wires = [{"id": "ind", "type": "user_indicator", "indicator": indicator}], []
        quick = {"source": "ind", "source_port": "quick"}
        calm = {"source": "ind", "source_port": "calm"}
    return {
        "nodes": [
            *head,
            {"id": "up", "type": "cross.above"},
            {"id": "down", "type": "cross.below"},
            {"id": "enter", "type": "sink.enter_long"},
            {"id": "exit", "type": "sink.exit_long"},
        ],
        "edges": [
            *wires,
            {**quick, "target": "up", "target_port": "a"},
            {**calm, "target": "up", "target_port": "b"},
            {**quick, "target": "down", "target_port": "a"},
            {**calm, "target": "down", "target_port": "b"},
            {"source": "up", "target": "enter", "target_port": "when"},
            {"source": "down", "target": "exit", "target_port": "when"},
        ],
    }


FOUND = {(REF["indicator_id"], REF["version"]): IndicatorVersion("graph", bands())}


def test_inlining_writes_the_indicators_nodes_into_the_graph() -> None:
    inlined = inline(StrategyGraph.model_validate(crossing(REF)), FOUND)
    by_hand = StrategyGraph.model_validate(crossing(None))
    assert sorted(inlined.nodes, key=lambda n: n.id) == sorted(by_hand.nodes, key=lambda n: n.id)
    assert sorted(map(repr, inlined.edges)) == sorted(map(repr, by_hand.edges))
    compiled(inlined)  # a plain graph of catalog nodes
    assert inline(by_hand, {}) is by_hand


def issues(graph: dict[str, Any], found: dict[tuple[str, int], IndicatorVersion]) -> set[tuple[Any, ...]]:
    with pytest.raises(GraphRefused) as caught:
        inline(StrategyGraph.model_validate(graph), found)
    return {(i.code, i.node, i.port, i.param) for i in caught.value.issues}


def test_each_bad_user_indicator_node_is_named_with_its_port() -> None:
    graph = crossing(REF)
    assert issues(graph, {}) == {("unknown_user_indicator", "ind", None, "indicator")}
    code = {(REF["indicator_id"], REF["version"]): IndicatorVersion("code", None, "src", {}, ("quick",))}
    assert issues(graph, code) == {("unknown_port", "ind", "calm", None)}  # its compute gave only quick
    unnamed = crossing(REF)
    del unnamed["nodes"][0]["indicator"]
    unnamed["nodes"][1]["indicator"] = REF
    assert issues(unnamed, FOUND) == {
        ("param_invalid", "ind", None, "indicator"), ("param_invalid", "up", None, "indicator"),
    }  # fmt: skip
    with_params = crossing(REF)
    with_params["nodes"][0]["params"] = {"window": 3}
    assert issues(with_params, FOUND) == {("param_invalid", "ind", None, "window")}
    wrong_port = crossing(REF)
    wrong_port["edges"][0]["source_port"] = "fast"
    wrong_port["edges"].append({"source": "up", "target": "ind", "target_port": "in"})
    assert issues(wrong_port, FOUND) == {
        ("unknown_port", "ind", "fast", None),
        ("unknown_port", "ind", "in", None),
    }
    clash = crossing(REF)
    clash["nodes"].append({"id": "ind.f", "type": "input.close"})
    assert issues(clash, FOUND) == {("duplicate_node", "ind", None, None)}


async def test_a_saved_graph_with_a_user_indicator_backtests_like_the_inlined_graph(alice: Caller) -> None:
    made = await alice("user_indicators_create", {"name": "bands", "kind": "graph", "graph": bands(5, 9)})
    indicator_id = made["indicator_id"]
    await alice("user_indicators_versions_add", {"indicator_id": indicator_id, "graph": bands()})
    ref = {"indicator_id": indicator_id, "version": 2}
    valid = await alice("strategies_validate", {"graph": crossing(ref)})
    assert valid["valid"] and valid["sinks"] == ["sink.enter_long", "sink.exit_long"]

    for bad in ({**ref, "version": 3}, {**ref, "indicator_id": "nope"}):
        error = await alice.error("strategies_validate", {"graph": crossing(bad)})
        assert error.code == "validation_error" and fields(error) == ["graph.nodes.ind.indicator"]
    mallory = await alice.as_user("mallory").error(
        "strategies_create", {"name": "x", "kind": "graph", "graph": crossing(ref)}
    )
    assert [i["code"] for i in mallory.details["issues"]] == ["unknown_user_indicator"]
    wrong = crossing(ref)
    wrong["edges"][0]["source_port"] = "fast"
    error = await alice.error("strategies_create", {"name": "x", "kind": "graph", "graph": wrong})
    assert fields(error) == ["graph.nodes.ind.fast"]

    saved = await alice("strategies_create", {"name": "banded", "kind": "graph", "graph": crossing(ref)})
    version = await alice("strategy_versions_get", {"strategy_id": saved["strategy_id"]})
    rng = np.random.default_rng(11)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 600)))
    open_ = np.concatenate([[100.0], close[:-1]])
    bars = BarArrays(np.arange(600, dtype=np.int64) * 3_600 * 10**9, open_, np.maximum(open_, close) * 1.001,
                     np.minimum(open_, close) * 0.999, close, np.full(600, 1e3))  # fmt: skip

    def backtest(graph: dict[str, Any]) -> Any:
        body = {"strategy": "graph", "graph": graph, "symbol": "BTC/USDT", "start": "2024-01-01T00:00:00Z",
                "end": "2024-02-01T00:00:00Z"}  # fmt: skip
        return run_backtest(plan_run(SubmitBacktest.model_validate(body)), bars)

    ours, by_hand = backtest(version["graph"]), backtest(crossing(None))
    assert len(by_hand.trades) > 5
    np.testing.assert_array_equal(ours.trades, by_hand.trades)
    np.testing.assert_array_equal(ours.equity, by_hand.equity)
