"""Grid and DCA bots' configuration updates (``grid_bots_update``, ``dca_bots_update``) over real NATS
and Postgres with real market-data and order-router: a stopped bot's ladder or cycle settings
change (checked against the market as at create) and its next start runs them; a running one's wait
for its next start (``test_kind_bot_pending.py``) while its name changes at once; bad input is a
422 naming the field with nothing written; every change is in the bot's history; another user's bot
is not found."""

from __future__ import annotations

from typing import Any

from bots_harness import BotsEnv, eventually
from sr_caller import fields
from test_grid_bots_live import GRID, orders_of

from tradeloom.shared.rpc import RemoteError

DCA = {
    "base_quantity": "0.1", "safety_quantity": "0.1", "price_deviation": "0.05", "max_safety_orders": 2,
    "take_profit": "0.02",
}  # fmt: skip


async def _priced_account(env: BotsEnv, name: str) -> str:
    account_id = (await env.orders("accounts_create", {"name": name}))["account_id"]
    await env.market.trade_now(100)

    async def priced() -> bool:
        try:
            await env.orders.client.call_raw(
                "market-data", "latest_price", {"symbol": "BTC/USDT"}, timeout_s=10
            )
        except RemoteError:
            return False
        return True

    await eventually(priced)
    return account_id


async def history(env: BotsEnv, op: str, bot_id: str) -> list[tuple[dict[str, Any], str]]:
    page = await env.sr(op, {"bot_id": bot_id, "limit": 200})
    return [(item["changes"], item["effective"]) for item in reversed(page["items"])]


async def test_a_stopped_grids_ladder_changes_and_its_start_rests_the_new_one(bots_env: BotsEnv) -> None:
    env = bots_env
    account_id = await _priced_account(env, "grid")
    body = {"name": "grid", "account_id": account_id, "symbol": "BTC/USDT", **GRID}
    bot = await env.sr("grid_bots_create", body)
    ref = {"bot_id": bot["bot_id"]}
    before = await env.sr("grid_bots_get", ref)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"upper": "80"}, "upper"),  # not above lower
        ({"quantity_per_level": "1000"}, "quantity_per_level"),  # the buys over the free balance
        ({"lower": "90.001"}, "lower"),  # off the tick
        ({"levels": 500}, "levels"),
        ({"symbol": "ETH/USDT"}, "symbol"),  # another market is another bot
    ]
    for change, field in cases:
        error = await env.sr.error("grid_bots_update", ref | {"name": "x"} | change)
        assert (error.code, fields(error)) == ("validation_error", [field]), change
    assert await env.sr("grid_bots_get", ref) == before
    assert await history(env, "grid_bots_config_changes", bot["bot_id"]) == []
    assert (await env.sr.as_user("bob").error("grid_bots_update", ref | {"levels": 3})).code == "not_found"
    assert (await env.sr.as_user("bob").error("grid_bots_config_changes", ref)).code == "not_found"

    updated = await env.sr("grid_bots_update", ref | {"lower": "92", "levels": 3})  # 92 101 110
    assert (updated["lower"], updated["levels"]) == ("92", 3)
    assert [(lot["buy_price"], lot["sell_price"], lot["cycle"]) for lot in updated["lots"]] == [
        ("92", "101", 1),
        ("101", "110", 1),
    ]  # new lots, a new client id generation
    assert await history(env, "grid_bots_config_changes", bot["bot_id"]) == [
        ({"lower": {"old": "90", "new": "92"}, "levels": {"old": 5, "new": 3}}, "now")
    ]
    assert (await env.sr("grid_bots_start", ref))["status"] == "running"

    async def rests_new_ladder() -> bool:
        return await orders_of(env.orders, account_id) == [("buy", "92", "new")]  # below 100: 92 only

    await eventually(rests_new_ladder)
    running = await env.sr("grid_bots_update", ref | {"levels": 4})  # at its next start
    assert (running["levels"], running["pending_config"]["levels"]) == (3, 4)
    renamed = await env.sr("grid_bots_update", ref | {"name": "renamed"})
    assert (renamed["name"], renamed["levels"], renamed["status"]) == ("renamed", 3, "running")
    assert [e for _, e in await history(env, "grid_bots_config_changes", bot["bot_id"])] == [
        "now",
        "next_start",
        "now",
    ]


async def test_a_stopped_dca_bots_cycle_settings_change(bots_env: BotsEnv) -> None:
    env = bots_env
    account_id = await _priced_account(env, "dca")
    bot = await env.sr(
        "dca_bots_create", {"name": "dca", "account_id": account_id, "symbol": "BTC/USDT", **DCA}
    )
    ref = {"bot_id": bot["bot_id"]}
    before = await env.sr("dca_bots_get", ref)
    for change, field in (
        ({"base_quantity": "0.1234567"}, "base_quantity"),  # off the lot
        ({"take_profit": "20"}, "take_profit"),
        ({"lower": "1"}, "lower"),  # a grid's field
    ):
        error = await env.sr.error("dca_bots_update", ref | change)
        assert error.code == "validation_error" and field in fields(error), (change, fields(error))
    assert await env.sr("dca_bots_get", ref) == before
    updated = await env.sr("dca_bots_update", ref | {"take_profit": "0.03", "max_safety_orders": 1})
    assert (updated["take_profit"], updated["max_safety_orders"]) == ("0.03", 1)
    assert await history(env, "dca_bots_config_changes", bot["bot_id"]) == [
        ({"take_profit": {"old": "0.02", "new": "0.03"}, "max_safety_orders": {"old": 2, "new": 1}}, "now")
    ]
    assert (await env.sr("dca_bots_start", ref))["status"] == "running"
    running = await env.sr("dca_bots_update", ref | {"take_profit": "0.05"})  # at its next start
    assert (running["take_profit"], running["pending_config"]["take_profit"]) == ("0.03", "0.05")
    assert (await env.sr("dca_bots_get", ref))["take_profit"] == "0.03"
