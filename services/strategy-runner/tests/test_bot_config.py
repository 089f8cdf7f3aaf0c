"""A bot's configuration updated (``bots_update``): stored at once and audited; a stopped bot's
next start runs it, a running one trades on with its own until it is stopped and started again;
bad input is a 422 naming the field and changes nothing; another user's bot is not found."""

from __future__ import annotations

from typing import Any

from bots_harness import PARAMS, BotsEnv, crossing_bar, decisions, eventually
from sr_caller import fields
from test_graph_strategies import sma_cross


async def audit(env: BotsEnv, bot_id: str) -> list[tuple[dict[str, Any], str]]:
    """The bot's configuration changes (changes, effective), oldest first."""
    page = await env.sr("bots_config_changes", {"bot_id": bot_id, "limit": 200})
    return [(item["changes"], item["effective"]) for item in reversed(page["items"])]


async def _bot(env: BotsEnv, strategy_id: str, account_id: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {
        "name": name, "strategy_id": strategy_id, "strategy_version": 1, "account_id": account_id,
        "symbol": "BTC/USDT", "timeframe": "1m", "sizing": {"kind": "fixed", "quantity": "1"},
        "max_position": "20",
    }  # fmt: skip
    return await env.sr("bots_create", body | extra)


async def test_a_stopped_bots_update_runs_at_its_start_a_running_bots_at_its_next_start(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    account = (await env.orders("accounts_create", {"name": "config"}))["account_id"]
    strategy = await env.sr("strategies_create", {"name": "cross", "template": "sma_cross", "params": PARAMS})
    stopped = await _bot(env, strategy["strategy_id"], account, "stopped one")
    updated = await env.sr(
        "bots_update", {"bot_id": stopped["bot_id"], "sizing": {"kind": "fixed", "quantity": "2"}}
    )
    assert updated["sizing"]["quantity"] == "2" and updated["pending_config"] is None
    assert (await env.sr("bots_start", {"bot_id": stopped["bot_id"]}))["sizing"]["quantity"] == "2"

    running = await _bot(env, strategy["strategy_id"], account, "running one")
    await env.sr("bots_start", {"bot_id": running["bot_id"]})
    change = {"bot_id": running["bot_id"], "sizing": {"kind": "fixed", "quantity": "3"}, "max_position": "5"}
    pending = await env.sr("bots_update", change)
    assert pending["status"] == "running"
    assert (pending["sizing"]["quantity"], pending["max_position"]) == ("1", "20")  # still its own
    assert pending["pending_config"]["sizing"]["quantity"] == "3"
    assert pending["pending_config"]["max_position"] == "5"
    assert (await env.sr("bots_get", {"bot_id": running["bot_id"]}))["pending_config"] == pending[
        "pending_config"
    ]

    cross = crossing_bar()
    await env.market.bars(0, cross + 1)

    async def both_ordered() -> bool:
        for bot in (stopped, running):
            log = await decisions(env.sr, bot["bot_id"])
            if not any(d["action"] == "buy" and d["order_id"] for d in log):
                return False
        return True

    await eventually(both_ordered)
    for bot, quantity in ((stopped, "2"), (running, "1")):  # the running bot traded on with its own
        buys = [d for d in await decisions(env.sr, bot["bot_id"]) if d["action"] == "buy"]
        assert [(d["bar_ns"], d["quantity"]) for d in buys] == [(env.market.bar_ns(cross), quantity)]
    listed = await env.orders("orders_list", {"account_id": account})
    assert sorted(o["quantity"] for o in listed["items"]) == ["1", "2"]

    after_stop = await env.sr("bots_stop", {"bot_id": running["bot_id"]})
    assert after_stop["pending_config"] is not None and after_stop["sizing"]["quantity"] == "1"
    restarted = await env.sr("bots_start", {"bot_id": running["bot_id"]})
    assert (restarted["sizing"]["quantity"], restarted["max_position"]) == ("3", "5")
    assert restarted["pending_config"] is None
    assert await audit(env, stopped["bot_id"]) == [
        ({"sizing": {"old": {"kind": "fixed", "quantity": "1", "percent": None},
                     "new": {"kind": "fixed", "quantity": "2", "percent": None}}}, "now"),
    ]  # fmt: skip
    assert [effective for _, effective in await audit(env, running["bot_id"])] == [
        "next_start",
        "started",
    ]


async def test_bad_updates_name_the_field_and_change_nothing(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    account = (await env.orders("accounts_create", {"name": "config"}))["account_id"]
    strategy = await env.sr("strategies_create", {"name": "cross", "template": "sma_cross", "params": PARAMS})
    bot = await _bot(env, strategy["strategy_id"], account, "mine")
    bot_id = bot["bot_id"]
    before = await env.sr("bots_get", {"bot_id": bot_id})
    cases: list[tuple[dict[str, Any], str]] = [
        ({"strategy_version": 2}, "strategy_version"),  # no such version
        ({"sizing": {"kind": "fixed"}}, "sizing"),  # fixed without quantity
        ({"sizing": {"kind": "equity_pct", "percent": "150"}}, "sizing.percent"),
        ({"max_position": "-1"}, "max_position"),
        ({"symbol": "ETH/USDT"}, "symbol"),  # another market is another bot
        ({"account_id": account}, "account_id"),
    ]
    for change, field in cases:
        error = await env.sr.error("bots_update", {"bot_id": bot_id, "name": "renamed"} | change)
        assert error.code == "validation_error", change
        assert any(f == field or f.startswith(field + ".") for f in fields(error)), (change, fields(error))
    assert await env.sr("bots_get", {"bot_id": bot_id}) == before
    assert await audit(env, bot_id) == []
    other = await env.sr.as_user("bob").error("bots_update", {"bot_id": bot_id, "name": "bobs"})
    assert other.code == "not_found"
    hidden = await env.sr.as_user("bob").error("bots_config_changes", {"bot_id": bot_id})
    assert hidden.code == "not_found"
    unknown = await env.sr.error("bots_update", {"bot_id": "0190f0a0-0000-7000-8000-000000000009"})
    assert unknown.code == "not_found"

    # a new version is the bot's own copy; a graph's sizing and exits checked as at create
    await env.sr("strategy_versions_add", {"strategy_id": strategy["strategy_id"],
                                           "params": {"fast": 2, "slow": 4}})  # fmt: skip
    moved = await env.sr("bots_update", {"bot_id": bot_id, "strategy_version": 2, "name": "renamed"})
    assert (moved["strategy_version"], moved["params"]["fast"], moved["name"]) == (2, 2, "renamed")
    with_stop = sma_cross(PARAMS["fast"], PARAMS["slow"])
    plain_graph = {**with_stop, "nodes": [n for n in with_stop["nodes"] if n["type"] != "sink.stop_loss"]}
    graph = await env.sr("strategies_create", {"name": "graph", "kind": "graph", "graph": plain_graph})
    graph_bot = await _bot(env, graph["strategy_id"], account, "graph bot")
    size = {"id": "size", "type": "sink.position_size", "params": {"fraction": 0.25}}
    sized = {**plain_graph, "nodes": [*plain_graph["nodes"], size]}
    await env.sr("strategy_versions_add", {"strategy_id": graph["strategy_id"], "graph": sized})
    trail = {"id": "trail", "type": "sink.trailing_stop", "params": {"fraction": 0.1}}
    two_sells = {**with_stop, "nodes": [*with_stop["nodes"], trail]}
    await env.sr("strategy_versions_add", {"strategy_id": graph["strategy_id"], "graph": two_sells})
    mismatch = await env.sr.error("bots_update", {"bot_id": graph_bot["bot_id"], "strategy_version": 2})
    assert fields(mismatch) == ["sizing"] and "percent: 25" in mismatch.message
    refused = await env.sr.error("bots_update", {"bot_id": graph_bot["bot_id"], "strategy_version": 3})
    assert fields(refused) == ["strategy_version"] and "sink.stop_loss" in refused.message
    quarter = {"kind": "equity_pct", "percent": "25"}
    ok = await env.sr(
        "bots_update", {"bot_id": graph_bot["bot_id"], "strategy_version": 2, "sizing": quarter}
    )
    assert ok["strategy_version"] == 2 and ok["sizing"]["percent"] == "25"
    changes = await env.sr("bots_config_changes", {"bot_id": graph_bot["bot_id"], "limit": 1})
    [latest] = changes["items"]
    assert latest["effective"] == "now" and latest["changes"]["strategy_version"] == {"old": 1, "new": 2}
    assert changes["next_cursor"] is None
