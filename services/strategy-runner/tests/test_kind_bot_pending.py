"""A running grid or DCA bot's configuration update (``grid_bots_update``, ``dca_bots_update``) over
real NATS and Postgres with real market-data and order-router: accepted (200) and kept as the
bot's ``pending_config`` while the bot trades on with its own ladder or cycle (its orders and lots
untouched); a second update builds on the pending one; a stop and a start put it in effect,
audited ``next_start`` then ``started``; bad input is a 422 naming the field with nothing pending;
another user's bot is not found."""

from __future__ import annotations

from bots_harness import BotsEnv, eventually
from sr_caller import fields
from test_dca_bots_live import ladder
from test_grid_bots_live import GRID, orders_of
from test_kind_bot_config import DCA, _priced_account, history


async def test_a_running_grids_ladder_update_waits_for_its_next_start(bots_env: BotsEnv) -> None:
    env = bots_env
    account_id = await _priced_account(env, "grid")
    bot = await env.sr(
        "grid_bots_create", {"name": "grid", "account_id": account_id, "symbol": "BTC/USDT", **GRID}
    )
    ref = {"bot_id": bot["bot_id"]}
    await env.sr("grid_bots_start", ref)
    resting = [("buy", "90", "new"), ("buy", "95", "new")]  # 90 95 100 105 110 at 100

    async def rests_old_ladder() -> bool:
        return await orders_of(env.orders, account_id) == resting

    await eventually(rests_old_ladder)
    running = await env.sr("grid_bots_get", ref)
    assert running["pending_config"] is None

    updated = await env.sr("grid_bots_update", ref | {"lower": "92", "levels": 3})  # 92 101 110
    assert updated["status"] == "running"
    assert {k: updated[k] for k in ("lower", "upper", "levels", "lots")} == {
        k: running[k] for k in ("lower", "upper", "levels", "lots")
    }  # it trades on with its own ladder and lots
    assert updated["pending_config"] == {
        "lower": "92",
        "upper": "110",
        "levels": 3,
        "quantity_per_level": "0.1",
    }
    assert await orders_of(env.orders, account_id) == resting  # its orders untouched

    for change, field in (({"upper": "80"}, "upper"), ({"lower": "90.001"}, "lower"), ({"grid": 1}, "grid")):
        error = await env.sr.error("grid_bots_update", ref | change)
        assert (error.code, fields(error)) == ("validation_error", [field]), change
    assert (await env.sr.as_user("bob").error("grid_bots_update", ref | {"levels": 3})).code == "not_found"
    assert (await env.sr("grid_bots_get", ref))["pending_config"] == updated["pending_config"]

    again = await env.sr("grid_bots_update", ref | {"quantity_per_level": "0.2"})  # on the pending one
    assert again["pending_config"] == {
        "lower": "92",
        "upper": "110",
        "levels": 3,
        "quantity_per_level": "0.2",
    }
    assert again["quantity_per_level"] == "0.1"
    assert await history(env, "grid_bots_config_changes", bot["bot_id"]) == [
        ({"lower": {"old": "90", "new": "92"}, "levels": {"old": 5, "new": 3}}, "next_start"),
        ({"quantity_per_level": {"old": "0.1", "new": "0.2"}}, "next_start"),
    ]

    await env.sr("grid_bots_stop", ref)
    stopped = await env.sr("grid_bots_get", ref)
    assert (stopped["levels"], stopped["pending_config"]) == (5, again["pending_config"])  # until the start
    started = await env.sr("grid_bots_start", ref)
    assert (started["lower"], started["levels"], started["quantity_per_level"]) == ("92", 3, "0.2")
    assert started["pending_config"] is None
    assert [(lot["buy_price"], lot["sell_price"]) for lot in started["lots"]] == [
        ("92", "101"),
        ("101", "110"),
    ]

    async def rests_new_ladder() -> bool:
        return await orders_of(env.orders, account_id) == [
            ("buy", "90", "canceled"),
            ("buy", "92", "new"),
            ("buy", "95", "canceled"),
        ]

    await eventually(rests_new_ladder)
    [*_, (changes, effective)] = await history(env, "grid_bots_config_changes", bot["bot_id"])
    assert effective == "started"
    assert changes == {
        "lower": {"old": "90", "new": "92"},
        "levels": {"old": 5, "new": 3},
        "quantity_per_level": {"old": "0.1", "new": "0.2"},
    }


async def test_an_update_back_to_the_running_ladder_drops_the_pending_one(bots_env: BotsEnv) -> None:
    env = bots_env
    account_id = await _priced_account(env, "grid")
    bot = await env.sr(
        "grid_bots_create", {"name": "grid", "account_id": account_id, "symbol": "BTC/USDT", **GRID}
    )
    ref = {"bot_id": bot["bot_id"]}
    await env.sr("grid_bots_start", ref)
    assert (await env.sr("grid_bots_update", ref | {"levels": 3}))["pending_config"]["levels"] == 3
    assert (await env.sr("grid_bots_update", ref | {"levels": 5}))["pending_config"] is None
    await env.sr("grid_bots_stop", ref)
    assert (await env.sr("grid_bots_start", ref))["levels"] == 5
    assert [e for _, e in await history(env, "grid_bots_config_changes", bot["bot_id"])] == [
        "next_start",
        "next_start",
    ]  # nothing applied by the start


async def test_a_running_dca_bots_cycle_update_waits_for_its_next_start(bots_env: BotsEnv) -> None:
    env = bots_env
    account_id = await _priced_account(env, "dca")
    bot = await env.sr(
        "dca_bots_create", {"name": "dca", "account_id": account_id, "symbol": "BTC/USDT", **DCA}
    )
    ref = {"bot_id": bot["bot_id"]}
    await env.sr("dca_bots_start", ref)

    async def cycle_rests() -> bool:  # the base filled (on a trade), its safeties and take-profit resting
        if not (await env.sr("dca_bots_get", ref))["fills"]:
            await env.market.trade_now(100)
            return False
        return [(step, status) for step, status, *_ in await ladder(env, account_id)] == [
            ("0b", "filled"), ("0s1", "new"), ("0s2", "new"), ("0t1", "new"),
        ]  # fmt: skip

    await eventually(cycle_rests)
    running = await env.sr("dca_bots_get", ref)
    orders = await ladder(env, account_id)

    updated = await env.sr("dca_bots_update", ref | {"take_profit": "0.03", "max_safety_orders": 1})
    assert updated["status"] == "running"
    assert (updated["take_profit"], updated["max_safety_orders"], updated["cycle"]) == (
        "0.02",
        2,
        running["cycle"],
    )  # its cycle runs on with its own settings
    pending = updated["pending_config"]
    assert (pending["take_profit"], pending["max_safety_orders"], pending["base_quantity"]) == (
        "0.03",
        1,
        "0.1",
    )
    assert await ladder(env, account_id) == orders  # nothing cancelled or added
    assert (await env.sr("dca_bots_get", ref))["take_profit_price"] == running["take_profit_price"]

    error = await env.sr.error("dca_bots_update", ref | {"base_quantity": "0.1234567"})  # off the lot
    assert (error.code, fields(error)) == ("validation_error", ["base_quantity"])
    assert (
        await env.sr.as_user("bob").error("dca_bots_update", ref | {"take_profit": "0.05"})
    ).code == "not_found"
    assert (await env.sr("dca_bots_get", ref))["pending_config"] == pending
    assert await history(env, "dca_bots_config_changes", bot["bot_id"]) == [
        (
            {"take_profit": {"old": "0.02", "new": "0.03"}, "max_safety_orders": {"old": 2, "new": 1}},
            "next_start",
        )
    ]

    await env.sr("dca_bots_stop", ref)
    started = await env.sr("dca_bots_start", ref)
    assert (started["take_profit"], started["max_safety_orders"], started["pending_config"]) == (
        "0.03",
        1,
        None,
    )
    assert started["cycle"] == running["cycle"] + 1  # a new cycle runs the new settings

    async def new_cycle_rests() -> bool:  # max_safety_orders 1: one safety and the take-profit
        if not (await env.sr("dca_bots_get", ref))["fills"]:
            await env.market.trade_now(100)
            return False
        return [(step, status) for step, status, *_ in await ladder(env, account_id) if step[0] == "1"] == [
            ("1b", "filled"), ("1s1", "new"), ("1t1", "new"),
        ]  # fmt: skip

    await eventually(new_cycle_rests)
    [*_, (changes, effective)] = await history(env, "dca_bots_config_changes", bot["bot_id"])
    assert (effective, set(changes)) == ("started", {"take_profit", "max_safety_orders"})
