"""A strategy bot's ``symbols`` changed by ``bots_update`` (real NATS, Postgres, market-data listing
BTC/USDT and ETH/USDT, order-router): a stopped bot trades the new list from its start, a running
one keeps its own until stopped and started again; bad lists are 422s naming the field, with
nothing written."""

from __future__ import annotations

import uuid
from typing import Any

from bots_harness import PARAMS, PRICES, SYMBOL, BotsEnv, crossing_bar, decisions, eventually
from sr_caller import fields
from test_bot_config import audit
from test_bots_multi_symbol import ETH, eth_trade, multi_env  # noqa: F401  (the fixture)


async def _bot(env: BotsEnv, name: str, symbols: list[str]) -> dict[str, Any]:
    account = await env.orders("accounts_create", {"name": name})
    strategy = await env.sr("strategies_create", {"name": name, "template": "sma_cross", "params": PARAMS})
    body = {
        "name": name, "strategy_id": strategy["strategy_id"], "strategy_version": 1,
        "account_id": account["account_id"], "symbols": symbols, "timeframe": "1m",
        "sizing": {"kind": "fixed", "quantity": "1"}, "max_position": "5",
    }  # fmt: skip
    return await env.sr("bots_create", body)


async def test_a_stopped_bot_trades_its_new_symbols_a_running_one_from_its_next_start(
    multi_env: BotsEnv,  # noqa: F811
) -> None:
    env = multi_env
    stopped = await _bot(env, "grows", [SYMBOL])
    updated = await env.sr("bots_update", {"bot_id": stopped["bot_id"], "symbols": [SYMBOL, ETH]})
    assert (updated["symbol"], updated["symbols"], updated["pending_config"]) == (SYMBOL, [SYMBOL, ETH], None)
    assert await audit(env, stopped["bot_id"]) == [
        ({"symbols": {"old": [SYMBOL], "new": [SYMBOL, ETH]}}, "now")
    ]
    running = await _bot(env, "shrinks", [SYMBOL, ETH])
    await env.sr("bots_start", {"bot_id": running["bot_id"]})
    pending = await env.sr("bots_update", {"bot_id": running["bot_id"], "symbols": [ETH]})
    assert pending["symbols"] == [SYMBOL, ETH] and pending["pending_config"]["symbols"] == [ETH]
    renamed = await env.sr("bots_update", {"bot_id": running["bot_id"], "name": "renamed"})
    assert renamed["pending_config"]["symbols"] == [ETH]  # another change leaves the pending one
    assert (await env.sr("bots_start", {"bot_id": stopped["bot_id"]}))["status"] == "running"

    cross = crossing_bar()
    for index in range(cross + 2):  # ETH's candles only: both bots trade ETH (the running one: its own)
        await eth_trade(env.market, index, PRICES[index] * 0.1)

    async def bought_eth(bot_id: str) -> bool:
        log = await decisions(env.sr, bot_id)
        return any(d["action"] == "buy" and d["order_id"] and d["symbol"] == ETH for d in log)

    await eventually(lambda: bought_eth(stopped["bot_id"]))
    await eventually(lambda: bought_eth(running["bot_id"]))
    listed = await env.orders("orders_list", {"account_id": stopped["account_id"]})
    bar = env.market.bar_ns(cross)
    hex_id = uuid.UUID(stopped["bot_id"]).hex
    assert [o["client_order_id"] for o in listed["items"]] == [f"bot-{hex_id}-{bar}-m1"]

    # the lists swapped: BTC takes ETH's place (ord 1, client ids `-m1`), so it starts after the
    # newest bar the bot decided: BTC's own cross on that bar would reuse ETH's client id
    await env.sr("bots_stop", {"bot_id": stopped["bot_id"]})
    swapped = await env.sr("bots_update", {"bot_id": stopped["bot_id"], "symbols": [ETH, SYMBOL]})
    assert (swapped["symbol"], swapped["symbols"]) == (ETH, [ETH, SYMBOL])
    await env.sr("bots_start", {"bot_id": stopped["bot_id"]})
    await env.market.bars(0, cross + 1)  # BTC's candles, its cross on the bar ETH bought on

    async def btc_decided(bot_id: str) -> bool:  # the other bot, still on [BTC, ETH], decided it
        log = await decisions(env.sr, bot_id)
        return any(d["symbol"] == SYMBOL and d["bar_ns"] == bar and d["order_id"] for d in log)

    await eventually(lambda: btc_decided(running["bot_id"]))
    await eventually(lambda: env.market.drained("strategy_runner_candles"))
    btc = [d for d in await decisions(env.sr, stopped["bot_id"]) if d["symbol"] == SYMBOL]
    assert btc == []  # none of those bars is newer than the bot's newest decided bar
    listed = await env.orders("orders_list", {"account_id": stopped["account_id"]})
    assert [o["symbol"] for o in listed["items"]] == [ETH]

    await env.sr("bots_stop", {"bot_id": running["bot_id"]})
    restarted = await env.sr("bots_start", {"bot_id": running["bot_id"]})
    assert (restarted["symbol"], restarted["symbols"], restarted["pending_config"]) == (ETH, [ETH], None)
    assert [(c.get("symbols"), e) for c, e in await audit(env, running["bot_id"])] == [
        ({"old": [SYMBOL, ETH], "new": [ETH]}, "next_start"),
        (None, "now"),  # the name
        ({"old": [SYMBOL, ETH], "new": [ETH]}, "started"),
    ]


async def test_bad_symbol_updates_name_the_field_and_write_nothing(multi_env: BotsEnv) -> None:  # noqa: F811
    env = multi_env
    bot = await _bot(env, "mine", [SYMBOL])
    before = await env.sr("bots_get", {"bot_id": bot["bot_id"]})
    cases: list[tuple[list[str], str]] = [
        ([], "symbols"),
        ([f"S{i:02d}/USDT" for i in range(21)], "symbols"),  # over 20
        ([SYMBOL, ETH, SYMBOL], "symbols"),  # twice
        ([SYMBOL, "DOGE/USDT"], "symbols.1"),  # not listed by market-data
    ]
    for symbols, field in cases:
        error = await env.sr.error("bots_update", {"bot_id": bot["bot_id"], "name": "x", "symbols": symbols})
        assert (error.code, fields(error)) == ("validation_error", [field]), symbols
    assert await env.sr("bots_get", {"bot_id": bot["bot_id"]}) == before
    assert await audit(env, bot["bot_id"]) == []
    other = await env.sr.as_user("bob").error("bots_update", {"bot_id": bot["bot_id"], "symbols": [ETH]})
    assert other.code == "not_found"
