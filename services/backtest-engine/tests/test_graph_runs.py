"""A builder graph submitted as a backtest over real NATS and Postgres: same results as the built-in."""

from __future__ import annotations

from typing import Any

import pytest
from graph_bodies import sma_cross_graph

from tradeloom.shared.contracts.backtest import BacktestCompleted
from tradeloom.shared.rpc import RemoteError


async def test_a_graph_backtest_completes_like_the_builtin(harness: Any, market: Any) -> None:
    await harness.start_service()
    graph_run = await harness.submit(strategy=None, params={}, graph=sma_cross_graph(5, 20))
    builtin_run = await harness.submit()
    ours = (await harness.events.wait_for(graph_run, "completed")).unwrap(BacktestCompleted)
    theirs = (await harness.events.wait_for(builtin_run, "completed")).unwrap(BacktestCompleted)
    assert ours.trade_count == theirs.trade_count > 0
    assert ours.final_equity == theirs.final_equity
    status = await harness.call("status", {"backtest_id": graph_run})
    assert status["status"] == "completed" and status["strategy"] == "graph"
    trades = await harness.call("trades", {"backtest_id": graph_run, "limit": 500})
    expected = await harness.call("trades", {"backtest_id": builtin_run, "limit": 500})
    assert [t["pnl"] for t in trades["items"]] == [t["pnl"] for t in expected["items"]]


async def test_bad_graph_requests_name_the_node_and_port(harness: Any) -> None:
    await harness.start_service()
    broken = sma_cross_graph()
    broken["nodes"][3]["type"] = "cross.sideways"
    with pytest.raises(RemoteError) as caught:
        await harness.call("submit", harness.body(strategy=None, params={}, graph=broken))
    assert caught.value.code == "validation_error"
    assert [(i["code"], i["node"]) for i in caught.value.details["issues"]] == [("unknown_node_type", "up")]
    assert caught.value.details["fields"][0]["field"] == "graph.nodes.up"
    for extra, field in (({}, "strategy"), ({"strategy": None}, "params"), ({"strategy": None, "params": {},
                         "strategy_id": "x"}, "strategy_id")):  # fmt: skip
        with pytest.raises(RemoteError) as mixed:
            await harness.call("submit", harness.body(graph=sma_cross_graph(), **extra))
        assert mixed.value.details["fields"][0]["field"] == field, extra
