"""Builder graphs through the gateway with the REAL strategy-runner, backtest-engine and market-data:
validate, node catalog, save as a strategy, duplicate, and a backtest of the saved graph version."""

from __future__ import annotations

from typing import Any

from gateway_testkit import Api
from test_routes_backtests import finished, upload
from test_routes_strategies import fields, sr_api

__all__ = ["sr_api"]  # the fixture, used by name below


def sma_cross_graph(fast: int = 5, slow: int = 20) -> dict[str, Any]:
    nodes = [
        {"id": "close", "type": "input.close"},
        {"id": "fast", "type": "indicator.sma", "params": {"window": fast}},
        {"id": "slow", "type": "indicator.sma", "params": {"window": slow}},
        {"id": "up", "type": "cross.above"},
        {"id": "down", "type": "cross.below"},
        {"id": "enter", "type": "sink.enter_long"},
        {"id": "exit", "type": "sink.exit_long"},
    ]
    wires = [("close", "fast", "in"), ("close", "slow", "in"), ("fast", "up", "a"), ("slow", "up", "b")]
    wires += [("fast", "down", "a"), ("slow", "down", "b"), ("up", "enter", "when"), ("down", "exit", "when")]
    return {"nodes": nodes, "edges": [{"source": s, "target": t, "target_port": p} for s, t, p in wires]}


async def test_graph_strategy_validate_save_duplicate_and_backtest(sr_api: Api) -> None:
    api = sr_api
    _, session = await api.user()
    post = api.http.post
    ok = await post("/v1/strategies/validate", headers=session, json={"graph": sma_cross_graph()})
    assert ok.status_code == 200 and ok.json()["valid"] is True, ok.text
    broken = sma_cross_graph()
    broken["nodes"][1]["params"] = {"window": 0}
    broken["edges"].append({"source": "up", "target": "fast", "target_port": "in"})  # a bool, 2nd input
    refused = await post("/v1/strategies/validate", headers=session, json={"graph": broken})
    assert refused.status_code == 422, refused.text
    issues = {(i["code"], i["node"], i["port"] or i["param"]) for i in refused.json()["details"]["issues"]}
    assert issues == {("param_invalid", "fast", "window"), ("wrong_port_type", "fast", "in")}
    assert "body.graph.nodes.fast.window" in fields(refused)
    nodes = await api.http.get("/v1/strategies/graph/nodes", headers=session)
    assert nodes.status_code == 200 and len(nodes.json()["items"]) > 40, nodes.text

    made = await post("/v1/strategies", headers=session,
                      json={"name": "graph 5-20", "kind": "graph", "graph": sma_cross_graph()})  # fmt: skip
    assert made.status_code == 201 and made.json()["kind"] == "graph", made.text
    strategy_id = made.json()["strategy_id"]
    second = await post(f"/v1/strategies/{strategy_id}/versions", headers=session,
                        json={"graph": sma_cross_graph(8, 30), "note": "slower"})  # fmt: skip
    assert second.status_code == 201 and second.json()["version"] == 2, second.text
    copy = await post(f"/v1/strategies/{strategy_id}/duplicate", headers=session, json={"name": "graph copy"})
    assert copy.status_code == 201 and copy.json()["latest_version"] == 1, copy.text
    await post("/v1/strategies", headers=session, json={"name": "plain", "template": "sma_cross"})
    graphs = await api.http.get("/v1/strategies", headers=session, params={"kind": "graph", "name": "GRAPH"})
    assert [s["name"] for s in graphs.json()["items"]] == ["graph copy", "graph 5-20"], graphs.text

    dataset_id = await upload(api, session)
    results = {}
    for body in ({"strategy_id": strategy_id, "strategy_version": 1}, {"strategy": "sma_cross",
                 "params": {"fast": 5, "slow": 20}}):  # fmt: skip
        accepted = await post("/v1/backtests", headers=session, json=body | {"dataset_id": dataset_id})
        assert accepted.status_code == 202, accepted.text
        done = await finished(api, session, accepted.json()["backtest_id"])
        assert done["status"] == "completed", done
        result = await api.http.get(f"/v1/backtests/{done['backtest_id']}/results", headers=session)
        assert result.status_code == 200, result.text
        results[done["strategy"]] = (done, result.json())
    (graph_run, ours), (_, theirs) = results["graph"], results["sma_cross"]
    assert graph_run["strategy_id"] == strategy_id and graph_run["strategy_version"] == 1
    assert ours["trade_count"] == theirs["trade_count"] > 0
    assert (ours["final_equity"], ours["metrics"]) == (theirs["final_equity"], theirs["metrics"])
