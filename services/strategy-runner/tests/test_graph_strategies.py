"""Builder-graph strategies end to end over real NATS and Postgres: validate, save, version, duplicate."""

from __future__ import annotations

from typing import Any

from sr_caller import Caller, fields

from tradeloom.shared.contracts.strategy import StrategyInfo, StrategyVersionInfo
from tradeloom.shared.contracts.strategy_graph import GraphNodeCatalog, GraphValidation


def sma_cross(fast: int = 10, slow: int = 20) -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "close", "type": "input.close", "position": {"x": 0, "y": 0}},
            {"id": "fast", "type": "indicator.sma", "params": {"window": fast}},
            {"id": "slow", "type": "indicator.sma", "params": {"window": slow}},
            {"id": "up", "type": "cross.above"},
            {"id": "down", "type": "cross.below"},
            {"id": "enter", "type": "sink.enter_long"},
            {"id": "exit", "type": "sink.exit_long"},
            {"id": "stop", "type": "sink.stop_loss", "params": {"fraction": 0.05}},
        ],
        "edges": [
            {"source": "close", "target": "fast", "target_port": "in"},
            {"source": "close", "target": "slow", "target_port": "in"},
            {"source": "fast", "target": "up", "target_port": "a"},
            {"source": "slow", "target": "up", "target_port": "b"},
            {"source": "fast", "target": "down", "target_port": "a"},
            {"source": "slow", "target": "down", "target_port": "b"},
            {"source": "up", "target": "enter", "target_port": "when"},
            {"source": "down", "target": "exit", "target_port": "when"},
        ],
    }


def broken() -> dict[str, Any]:
    """Three problems: an unknown type, a number into a bool input, a window out of range."""
    graph = sma_cross()
    graph["nodes"][1]["params"] = {"window": 0}
    graph["nodes"][4]["type"] = "cross.sideways"
    graph["edges"][-2] = {"source": "close", "target": "enter", "target_port": "when"}
    return graph


EXPECTED_ISSUES = {
    ("param_invalid", "fast", None, "window"),
    ("unknown_node_type", "down", None, None),
    ("wrong_port_type", "enter", "when", None),
}


def _issues(details: dict[str, Any]) -> set[tuple[str, str | None, str | None, str | None]]:
    return {(i["code"], i["node"], i["port"], i["param"]) for i in details["issues"]}


async def test_validate_answers_without_saving(alice: Caller) -> None:
    ok = GraphValidation.model_validate(await alice("strategies_validate", {"graph": sma_cross()}))
    assert ok.valid and ok.evaluated_nodes >= 1
    assert ok.sinks == ["sink.enter_long", "sink.exit_long", "sink.stop_loss"]
    error = await alice.error("strategies_validate", {"graph": broken()})
    assert error.code == "validation_error" and _issues(error.details) == EXPECTED_ISSUES
    assert set(fields(error)) == {"graph.nodes.fast.window", "graph.nodes.down", "graph.nodes.enter.when"}
    assert (await alice("strategies_list", {}))["items"] == []  # nothing saved
    assert (
        await alice.as_user(None).error("strategies_validate", {"graph": sma_cross()})
    ).code == "unauthorized"
    catalog = GraphNodeCatalog.model_validate(await alice("strategy_graph_nodes", {}))
    types = {item.type: item for item in catalog.items}
    assert {"input.close", "indicator.macd", "cross.above", "state.bars_since", "sink.trailing_stop"} <= set(
        types
    )
    assert [p.name for p in types["indicator.macd"].outputs] == ["line", "signal", "histogram"]


async def test_graph_strategy_versions_and_duplicate(alice: Caller) -> None:
    made = StrategyInfo.model_validate(
        await alice("strategies_create", {"name": "graph cross", "kind": "graph", "graph": sma_cross()})
    )
    assert (made.kind, made.template, made.latest_version) == ("graph", "graph", 1)
    sid = made.strategy_id
    first = StrategyVersionInfo.model_validate(await alice("strategy_versions_get", {"strategy_id": sid}))
    assert first.kind == "graph" and first.params == {} and first.graph is not None
    assert first.graph.model_dump(mode="json", exclude_none=True) == StrategyVersionInfo.model_validate(
        {**first.model_dump(mode="json"), "graph": sma_cross()}
    ).graph.model_dump(mode="json", exclude_none=True)  # stored as given, positions included

    second = await alice(
        "strategy_versions_add", {"strategy_id": sid, "graph": sma_cross(5, 30), "note": "n"}
    )
    assert second["version"] == 2 and second["graph"]["nodes"][1]["params"] == {"window": 5}
    bad = await alice.error("strategy_versions_add", {"strategy_id": sid, "graph": broken()})
    assert bad.code == "validation_error" and _issues(bad.details) == EXPECTED_ISSUES
    no_graph = await alice.error("strategy_versions_add", {"strategy_id": sid, "params": {"fast": 3}})
    assert fields(no_graph) == ["params"]
    assert fields(await alice.error("strategy_versions_add", {"strategy_id": sid})) == ["graph"]
    versions = await alice("strategy_versions_list", {"strategy_id": sid})
    assert [v["version"] for v in versions["items"]] == [1, 2]  # the refused ones were not saved

    copy = await alice("strategies_duplicate", {"strategy_id": sid, "version": 1, "name": "graph cross copy"})
    assert (copy["kind"], copy["latest_version"]) == ("graph", 1) and copy["strategy_id"] != sid
    copied = await alice("strategy_versions_get", {"strategy_id": copy["strategy_id"]})
    assert copied["graph"] == first.model_dump(mode="json")["graph"]
    taken = await alice.error("strategies_duplicate", {"strategy_id": sid, "name": "graph cross"})
    assert taken.code == "conflict" and fields(taken) == ["name"]
    stranger = await alice.as_user("bob").error("strategies_duplicate", {"strategy_id": sid, "name": "mine"})
    assert stranger.code == "not_found"


async def test_kinds_do_not_mix(alice: Caller) -> None:
    graph = sma_cross()
    cases = [
        ({"name": "a", "kind": "graph"}, "graph"),
        ({"name": "a", "kind": "graph", "graph": graph, "template": "sma_cross"}, "template"),
        ({"name": "a", "kind": "graph", "graph": graph, "params": {"fast": 3}}, "params"),
        ({"name": "a", "template": "sma_cross", "graph": graph}, "graph"),
        ({"name": "a"}, "template"),
    ]
    for body, field in cases:
        error = await alice.error("strategies_create", body)
        assert error.code == "validation_error" and fields(error) == [field], body
    refused = await alice.error("strategies_create", {"name": "a", "kind": "graph", "graph": broken()})
    assert _issues(refused.details) == EXPECTED_ISSUES
    sid = (await alice("strategies_create", {"name": "t", "template": "sma_cross"}))["strategy_id"]
    error = await alice.error("strategy_versions_add", {"strategy_id": sid, "graph": graph})
    assert fields(error) == ["graph"]
    copy = await alice("strategies_duplicate", {"strategy_id": sid, "name": "t2", "description": "copy"})
    assert (copy["kind"], copy["template"], copy["description"]) == ("template", "sma_cross", "copy")


async def test_list_filters_by_kind_template_and_name(alice: Caller) -> None:
    await alice("strategies_create", {"name": "Graph 100", "kind": "graph", "graph": sma_cross()})
    await alice("strategies_create", {"name": "trend_a", "template": "sma_cross"})
    await alice("strategies_create", {"name": "trendXa", "template": "macd"})

    async def names(**filters: str) -> list[str]:
        return [item["name"] for item in (await alice("strategies_list", filters))["items"]]

    assert await names(kind="graph") == ["Graph 100"]
    assert await names(kind="template") == ["trendXa", "trend_a"]
    assert await names(template="macd") == ["trendXa"]
    assert await names(name="TREND_") == ["trend_a"]  # any case; _ and % are literal
    assert await names(name="%") == []
    assert await names(name="graph", kind="template") == []
    bad = await alice.error("strategies_list", {"kind": "script"})
    assert bad.code == "validation_error" and fields(bad) == ["kind"]
