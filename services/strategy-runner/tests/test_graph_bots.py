"""A bot running a builder-graph strategy: the graph's signal decides, like the built-in it spells out."""

from __future__ import annotations

from decimal import Decimal

from bots_harness import PARAMS, PRICES, BotsEnv, crossing_bar, decisions, eventually
from sr_caller import fields
from test_graph_strategies import sma_cross

from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.strategy_runner.domain.bot_decision import Bar, last_signal
from tradeloom.strategy_runner.domain.graph import live_sizing_issue


def test_a_graph_gives_the_builtins_signal_on_every_bar() -> None:
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])
    bars = [Bar(i, p, p + 1, p - 1, p, 10.0) for i, p in enumerate(PRICES)]
    for n in range(1, len(bars) + 1):
        builtin = last_signal("sma_cross", PARAMS, bars[:n])
        assert last_signal("graph", {}, bars[:n], graph) == builtin, n


def test_a_graphs_position_size_must_be_the_bots_sizing() -> None:
    graph = sma_cross(PARAMS["fast"], PARAMS["slow"])
    plain = StrategyGraph.model_validate({**graph, "nodes": [n for n in graph["nodes"] if n["id"] != "stop"]})
    assert live_sizing_issue(plain, "fixed", None) is None
    size = {"id": "size", "type": "sink.position_size", "params": {"fraction": 0.1}}
    sized = StrategyGraph.model_validate({**graph, "nodes": [*graph["nodes"], size]})
    assert live_sizing_issue(sized, "equity_pct", Decimal("10.0")) is None
    assert "percent: 10" in (live_sizing_issue(sized, "fixed", None) or "")
    assert live_sizing_issue(sized, "equity_pct", Decimal(20)) is not None


async def test_a_graph_bot_buys_on_the_cross(bots_env: BotsEnv) -> None:
    env = bots_env
    account = await env.orders("accounts_create", {"name": "graph bots"})
    with_stop = sma_cross(PARAMS["fast"], PARAMS["slow"])
    graph = {**with_stop, "nodes": [n for n in with_stop["nodes"] if n["type"] != "sink.stop_loss"]}
    body = {"name": "graph bot", "strategy_version": 1, "account_id": account["account_id"],
            "symbol": "BTC/USDT", "timeframe": "1m", "sizing": {"kind": "fixed", "quantity": "1"},
            "max_position": "20"}  # fmt: skip
    trail = {"id": "trail", "type": "sink.trailing_stop", "params": {"fraction": 0.1}}
    two_sells = {**with_stop, "nodes": [*with_stop["nodes"], trail]}  # a stop tighter than the trail
    stopped = await env.sr("strategies_create", {"name": "two sells", "kind": "graph", "graph": two_sells})
    refused = await env.sr.error("bots_create", {**body, "strategy_id": stopped["strategy_id"]})
    assert refused.code == "validation_error" and fields(refused) == ["strategy_id"]
    assert "sink.stop_loss" in refused.message
    size = {"id": "size", "type": "sink.position_size", "params": {"fraction": 0.25}}
    sized = await env.sr(
        "strategies_create",
        {"name": "sized", "kind": "graph", "graph": {**graph, "nodes": [*graph["nodes"], size]}},
    )
    mismatch = await env.sr.error("bots_create", {**body, "strategy_id": sized["strategy_id"]})
    assert fields(mismatch) == ["sizing"] and "percent: 25" in mismatch.message
    quarter = {"kind": "equity_pct", "percent": "25"}  # the graph's size, said by the bot's sizing
    made = await env.sr("bots_create", {**body, "strategy_id": sized["strategy_id"], "sizing": quarter})
    assert made["status"] == "stopped"
    strategy = await env.sr("strategies_create", {"name": "graph cross", "kind": "graph", "graph": graph})
    bot = await env.sr("bots_create", {**body, "strategy_id": strategy["strategy_id"]})
    bot_id = bot["bot_id"]
    assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)

    async def ordered() -> bool:
        return any(d["action"] == "buy" and d["order_id"] for d in await decisions(env.sr, bot_id))

    await eventually(ordered)
    buys = [d for d in await decisions(env.sr, bot_id) if d["action"] == "buy"]
    assert [(d["signal"], d["bar_ns"]) for d in buys] == [("entry_long", env.market.bar_ns(cross))]
    listed = await env.orders("orders_list", {"account_id": account["account_id"]})
    assert [(o["side"], o["quantity"]) for o in listed["items"]] == [("buy", "1")]
