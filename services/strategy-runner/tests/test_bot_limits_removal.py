"""A bot's own risk limits removed by an update (``remove_risk_limits`` of ``bots_update``,
``grid_bots_update`` and ``dca_bots_update``), with the real risk-monitor, market-data and
order-router over real NATS and Postgres: risk-monitor no longer holds them, the bot's copy is
null and the history shows it; ``risk_limits`` with it, or an empty object, is a 422 naming the
field; another user's bot is not found. risk-monitor not answering the removal: the update stands
and the ``bot_limit_removals`` row it left is swept; limits set again before the sweep take that
row, so the sweep never removes the new set."""

from __future__ import annotations

import json
from typing import Any

from bots_harness import BotsEnv
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import create_async_engine
from sr_caller import fields
from test_bot_config import audit
from test_bot_risk_limits import (  # noqa: F401
    LIMITS,
    RiskEnv,
    bot_body,
    removal_rows,
    risk_env,
    risk_limits,
    setup,
)
from test_grid_bots_live import GRID
from test_kind_bot_config import DCA, _priced_account, history

from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient
from tradeloom.strategy_runner.bots.limit_removals import LimitRemovals

REMOVE = {"remove_risk_limits": True}


async def actions(env: RiskEnv, account_id: str) -> list[tuple[str, str]]:
    """risk-monitor's changes of the account's limits (bot id, put or delete), newest first."""
    items = (await env.risk("limit_changes", {"account_id": account_id}))["items"]
    return [(item["bot_id"], item["action"]) for item in items]


async def test_an_update_removes_a_running_bots_limits_at_risk_monitor(
    risk_env: RiskEnv,  # noqa: F811
    database_url: str,
    sr_schema: str,
) -> None:
    env = risk_env
    account_id, strategy_id = await setup(env)
    bot_id = (await env.sr("bots_create", bot_body(account_id, strategy_id, risk_limits=LIMITS)))["bot_id"]
    ref = {"bot_id": bot_id}
    await env.sr("bots_start", ref)
    stored = (await env.sr("bots_get", ref))["risk_limits"]
    for body, field in (
        (REMOVE | {"risk_limits": LIMITS}, "remove_risk_limits"),  # one or the other
        ({"risk_limits": {}}, "risk_limits"),  # no limit in it: not a removal
        ({"remove_risk_limits": "maybe"}, "remove_risk_limits"),
    ):
        error = await env.sr.error("bots_update", ref | body)
        assert (error.code, fields(error)) == ("validation_error", [field]), body
    assert (await env.sr.as_user("bob").error("bots_update", ref | REMOVE)).code == "not_found"
    assert (await risk_limits(env, account_id, bot_id))["max_open_orders"] == 3

    updated = await env.sr("bots_update", ref | REMOVE)
    assert (updated["risk_limits"], updated["status"], updated["pending_config"]) == (None, "running", None)
    assert (await env.sr("bots_get", ref))["risk_limits"] is None
    assert (await risk_limits(env, account_id, bot_id))["updated_at"] is None  # gone at risk-monitor
    assert await actions(env, account_id) == [(bot_id, "delete"), (bot_id, "put")]
    assert await audit(env, bot_id) == [({"risk_limits": {"old": stored, "new": None}}, "now")]
    assert await removal_rows(database_url, sr_schema) == 0  # removed at once: nothing to sweep

    assert (await env.sr("bots_update", ref | REMOVE))["risk_limits"] is None  # none left: no change
    assert len(await audit(env, bot_id)) == 1
    again = await env.sr("bots_update", ref | {"risk_limits": LIMITS})  # and set again
    assert again["risk_limits"] == stored
    assert (await risk_limits(env, account_id, bot_id))["max_open_orders"] == 3


async def test_grid_and_dca_bots_remove_their_limits_the_same_way(risk_env: RiskEnv) -> None:  # noqa: F811
    env = risk_env
    account_id = await _priced_account(env, "kinds")
    common = {"account_id": account_id, "symbol": "BTC/USDT", "risk_limits": LIMITS}
    grid = await env.sr("grid_bots_create", {"name": "grid", **GRID, **common})
    dca = await env.sr("dca_bots_create", {"name": "dca", **DCA, **common})
    await env.sr("grid_bots_start", {"bot_id": grid["bot_id"]})  # running; the DCA bot stopped
    for kind, bot in (("grid", grid), ("dca", dca)):
        ref = {"bot_id": bot["bot_id"]}
        both = await env.sr.error(f"{kind}_bots_update", ref | REMOVE | {"risk_limits": LIMITS})
        assert (both.code, fields(both)) == ("validation_error", ["remove_risk_limits"])
        assert (await env.sr.as_user("bob").error(f"{kind}_bots_update", ref | REMOVE)).code == "not_found"
        updated = await env.sr(f"{kind}_bots_update", ref | REMOVE | {"name": f"{kind} free"})
        assert (updated["risk_limits"], updated["name"]) == (None, f"{kind} free")
        assert (await risk_limits(env, account_id, bot["bot_id"]))["updated_at"] is None
        assert await history(env, f"{kind}_bots_config_changes", bot["bot_id"]) == [
            (
                {
                    "name": {"old": kind, "new": f"{kind} free"},
                    "risk_limits": {"old": bot["risk_limits"], "new": None},
                },
                "now",
            )
        ]
    assert sorted(await actions(env, account_id)) == sorted(
        (bot["bot_id"], action) for bot in (grid, dca) for action in ("put", "delete")
    )


async def test_a_removal_risk_monitor_does_not_answer_is_swept_unless_limits_are_set_again(
    bots_env: BotsEnv, database_url: str, sr_schema: str
) -> None:
    """``bots_env`` has no risk-monitor: a stand-in answers what the test says. The update stands
    (the copy cleared, audited), its removal row is left; the sweep removes the limits as the
    bot's owner. A second bot's limits set again before any sweep take the row: kept."""
    env = bots_env
    account_id, strategy_id = await setup(env)
    nc, subjects = env.market.nc, env.market.subjects
    asked: list[tuple[str, dict[str, Any], str | None]] = []

    async def answered(msg: Msg) -> None:
        op = msg.subject.rsplit(".", 1)[-1]
        asked.append((op, json.loads(msg.data), (msg.headers or {}).get("tl-user-id")))
        await msg.respond(json.dumps({"data": {"account_id": account_id}}).encode())

    sub = await nc.subscribe(subjects.request("risk-monitor", "limits_put"), cb=answered)
    try:
        swept, kept = [
            (await env.sr("bots_create", bot_body(account_id, strategy_id, name=name, risk_limits=LIMITS)))[
                "bot_id"
            ]
            for name in ("swept", "kept")
        ]
    finally:
        await sub.unsubscribe()
    for bot_id in (swept, kept):  # risk-monitor silent: the copy goes, the limits are left to remove
        assert (await env.sr("bots_update", {"bot_id": bot_id} | REMOVE))["risk_limits"] is None
        [(changes, _)] = await audit(env, bot_id)
        assert changes["risk_limits"]["new"] is None
    assert await removal_rows(database_url, sr_schema) == 2

    sub = await nc.subscribe(subjects.request("risk-monitor", "limits_put"), cb=answered)
    try:
        again = await env.sr("bots_update", {"bot_id": kept, "risk_limits": LIMITS})
    finally:
        await sub.unsubscribe()
    assert again["risk_limits"] is not None
    assert await removal_rows(database_url, sr_schema) == 1  # the kept bot's row went with the put

    engine = create_async_engine(database_url)
    try:
        limits = BotRiskLimitsClient(lambda: env.orders.client, 5, lambda: engine, sr_schema)
        asked.clear()
        assert await LimitRemovals(lambda: engine, limits, 1).sweep() == 0  # still no risk-monitor: kept
        sub = await nc.subscribe(subjects.request("risk-monitor", "limits_delete"), cb=answered)
        try:
            assert await LimitRemovals(lambda: engine, limits, 1).sweep() == 1
        finally:
            await sub.unsubscribe()
    finally:
        await engine.dispose()
    assert asked == [("limits_delete", {"account_id": account_id, "bot_id": swept}, "alice")]
    assert await removal_rows(database_url, sr_schema) == 0
    assert (await env.sr("bots_get", {"bot_id": kept}))["risk_limits"] is not None
