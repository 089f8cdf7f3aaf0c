"""Live bots end to end over real NATS and Postgres, with real market-data and order-router:
trades → market-data closes candles → the bot decides → order-router fills its order."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from bots_harness import PRICES, BotsEnv, crossing_bar, decisions, entries_accepted, eventually, new_bot

from tradeloom.shared.contracts.bots import BotDecisionMade, BotStatusChanged
from tradeloom.shared.rpc import RemoteError


async def test_the_cross_sends_one_order_that_fills_and_a_redelivered_candle_sends_none(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    bot_id, account_id = await new_bot(env.sr, env.orders)
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)  # the trade of bar cross+1 closes the crossing bar

    async def ordered() -> bool:
        return any(d["action"] == "buy" and d["order_id"] for d in await decisions(env.sr, bot_id))

    await eventually(ordered)
    await entries_accepted(env, bot_id)
    await env.market.trade_now(PRICES[cross + 2])  # a trade after the order fills it

    async def long() -> bool:
        return (await env.sr("bots_get", {"bot_id": bot_id}))["position"] == "1"

    await eventually(long)
    await env.market.candle_again(cross)  # the crossing candle once more
    await eventually(lambda: env.market.drained("strategy_runner_candles"))
    listed = await env.orders("orders_list", {"account_id": account_id})
    assert [(o["side"], o["status"], o["quantity"]) for o in listed["items"]] == [("buy", "filled", "1")]
    assert listed["items"][0]["client_order_id"].startswith("bot-")
    log = await decisions(env.sr, bot_id)
    assert len({d["bar_ns"] for d in log}) == len(log)  # one decision per bar
    buy = [d for d in log if d["action"] == "buy"]
    assert len(buy) == 1
    assert (buy[0]["signal"], buy[0]["bar_ns"]) == ("entry_long", env.market.bar_ns(cross))
    assert buy[0]["order_id"] == listed["items"][0]["order_id"]

    async def published() -> bool:  # strategy.evt.bot_decision.v1.<bot_id>, through the outbox
        return await env.market.last_event(BotDecisionMade, bot_id) is not None

    await eventually(published)


async def test_equity_pct_sizing_buys_a_share_of_the_free_quote_in_whole_lots(bots_env: BotsEnv) -> None:
    env = bots_env
    bot_id, account_id = await new_bot(env.sr, env.orders, {"kind": "equity_pct", "percent": "10"})
    cross = crossing_bar()
    await env.market.bars(0, cross + 1)

    async def ordered() -> bool:
        return any(d["action"] == "buy" and d["order_id"] for d in await decisions(env.sr, bot_id))

    await eventually(ordered)
    listed = await env.orders("orders_list", {"account_id": account_id})
    expected = (Decimal(1000) / Decimal(PRICES[cross])).quantize(Decimal("0.00001"), rounding=ROUND_DOWN)
    assert [Decimal(o["quantity"]) for o in listed["items"]] == [expected]


async def test_an_order_refused_for_an_archived_account_logs_why_and_stops_the_bot_in_error(
    bots_env: BotsEnv,
) -> None:
    env = bots_env
    bot_id, account_id = await new_bot(env.sr, env.orders)
    await env.orders("accounts_archive", {"account_id": account_id})
    await env.market.bars(0, crossing_bar() + 1)

    async def in_error() -> bool:
        return (await env.sr("bots_get", {"bot_id": bot_id}))["status"] == "error"

    await eventually(in_error)
    bot = await env.sr("bots_get", {"bot_id": bot_id})
    assert bot["status_reason"] == "the account is archived"
    refused = [d for d in await decisions(env.sr, bot_id) if d["action"] == "refused"]
    assert len(refused) == 1
    assert refused[0]["reason"].startswith("conflict: account")
    assert refused[0]["order_id"] is None


async def test_a_halt_stops_the_users_bots_and_another_users_bot_is_not_found(bots_env: BotsEnv) -> None:
    env = bots_env
    bot_id, _ = await new_bot(env.sr, env.orders)
    bob = env.sr.as_user("bob")
    for op in (
        "bots_get",
        "bots_stop",
        "bots_start",
        "bots_pause",
        "bots_resume",
        "bots_delete",
        "bots_decisions",
    ):
        error = await bob.error(op, {"bot_id": bot_id})
        assert error.code == "not_found", op
    assert (await bob("bots_list"))["items"] == []

    await env.market.halt("alice")

    async def halted() -> bool:
        return (await env.sr("bots_get", {"bot_id": bot_id}))["status"] == "halted"

    await eventually(halted)

    async def announced() -> bool:
        event = await env.market.last_event(BotStatusChanged, bot_id)
        return event is not None and event["status"] == "halted"

    await eventually(announced)  # strategy.evt.bot_status.v1.<bot_id>, through the outbox
    conflict = await env.sr.error("bots_delete", {"bot_id": bot_id})
    assert conflict.code == "conflict"
    assert (await env.sr("bots_start", {"bot_id": bot_id}))["status"] == "running"  # only by the owner
    assert (await env.sr("bots_pause", {"bot_id": bot_id}))["status"] == "paused"
    assert (await env.sr("bots_stop", {"bot_id": bot_id}))["status"] == "stopped"
    assert (await env.sr("bots_delete", {"bot_id": bot_id}))["deleted"] is True
    gone = await env.sr.error("bots_get", {"bot_id": bot_id})
    assert gone.code == "not_found"


async def test_an_account_stop_halts_only_the_bots_trading_that_account(bots_env: BotsEnv) -> None:
    env = bots_env
    stopped_bot, stopped_account = await new_bot(env.sr, env.orders)
    other_bot, _ = await new_bot(env.sr, env.orders, strategy_name="cross 2")

    await env.market.halt("alice", stopped_account)

    async def halted() -> bool:
        return (await env.sr("bots_get", {"bot_id": stopped_bot}))["status"] == "halted"

    await eventually(halted)
    assert (await env.sr("bots_get", {"bot_id": stopped_bot}))["status_reason"].startswith(
        f"risk halt (account {stopped_account})"
    )
    assert (await env.sr("bots_get", {"bot_id": other_bot}))["status"] == "running"


async def test_bot_create_names_the_field_of_a_bad_request(bots_env: BotsEnv) -> None:
    env = bots_env
    base = {
        "name": "b", "strategy_id": "0190f0a0-0000-7000-8000-000000000001", "strategy_version": 1,
        "account_id": "0190f0a0-0000-7000-8000-000000000002", "symbol": "BTC/USDT",
        "sizing": {"kind": "fixed", "quantity": "1"}, "max_position": "1",
    }  # fmt: skip
    missing = await env.sr.error("bots_create", base)
    assert missing.code == "not_found"
    bad: RemoteError = await env.sr.error("bots_create", base | {"max_position": "-1"})
    assert bad.code == "validation_error"
    assert "max_position" in str(bad.details)
