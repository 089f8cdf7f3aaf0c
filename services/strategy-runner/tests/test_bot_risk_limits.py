"""A bot's own risk limits, registered with the real risk-monitor (with real market-data and
order-router, over real NATS and Postgres): create → risk-monitor holds them → the bot's order
breaching them is refused by the pre-trade check; refused limits → 422 naming the field, no bot;
an insert failing after the put → the limits removed; risk-monitor not answering → 503 (or a
timeout: 504, the put undone), no bot; delete → the limits gone, or (risk-monitor not answering)
removed by the sweep later; grid and DCA bots alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from bots_harness import (
    PARAMS,
    BotsEnv,
    Market,
    crossing_bar,
    decisions,
    eventually,
    service_runtime,
    trading_stack,
)
from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy.ext.asyncio import create_async_engine
from sr_caller import Caller, fields

from tradeloom.risk_monitor import app as rm_app
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.contracts.bot_risk import BotRiskLimits
from tradeloom.shared.contracts.risk_monitor import LimitsPut
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.ports import free_port
from tradeloom.strategy_runner import app
from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient
from tradeloom.strategy_runner.bots.limit_removals import LimitRemovals
from tradeloom.strategy_runner.settings import StrategyRunnerSettings
from tradeloom.strategy_runner.store.limit_removals_store import LimitRemovalsStore

LIMITS = {"max_order_notional": "50", "max_open_orders": 3, "day_boundary_tz": "Europe/Paris"}


@dataclass
class RiskEnv(BotsEnv):
    """The bots' world with the real risk-monitor; ``risk`` calls it as alice."""

    risk: Caller


@pytest.fixture
async def risk_env(
    sr_schema: str, database_url: str, nats_url: str, nats_prefix: str, nc: Client, pg_server: Any
) -> AsyncIterator[RiskEnv]:
    """strategy-runner with market-data, order-router and the real risk-monitor (its check too)."""
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    settings = StrategyRunnerSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=sr_schema,
        environment="test", health_port=free_port(), bot_lease_ttl_s=3, bot_tick_s=0.2,
        risk_monitor_timeout_s=5,
    )  # fmt: skip
    risk = service_runtime(
        rm_app, RiskMonitorSettings, pg_server, database_url, nats_url, nats_prefix, cache_refresh_s=0.5
    )
    async with trading_stack(pg_server, database_url, nats_url, nats_prefix), risk:
        runtime = app.build(settings)
        await runtime.start()
        client = ServiceClient(nc, subjects)
        env = RiskEnv(
            Caller(client, "alice"), Caller(client, "alice", "order-router"), Market.recent(nc, subjects),
            Caller(client, "alice", "risk-monitor"),
        )  # fmt: skip
        try:
            yield env
        finally:
            await runtime.stop()


async def setup(env: BotsEnv) -> tuple[str, str]:
    """A fresh paper account and a saved sma_cross 3/5: (account id, strategy id)."""
    account = await env.orders("accounts_create", {"name": "bots"})
    strategy = await env.sr("strategies_create", {"name": "cross", "template": "sma_cross", "params": PARAMS})
    return account["account_id"], strategy["strategy_id"]


def bot_body(account_id: str, strategy_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "limited bot", "strategy_id": strategy_id, "strategy_version": 1, "account_id": account_id,
        "symbol": "BTC/USDT", "timeframe": "1m", "sizing": {"kind": "fixed", "quantity": "1"},
        "max_position": "20", **extra,
    }  # fmt: skip


async def risk_limits(env: RiskEnv, account_id: str, bot_id: str) -> dict[str, Any]:
    return await env.risk("limits_get", {"account_id": account_id, "bot_id": bot_id})


async def removal_rows(database_url: str, schema: str) -> int:
    """The rows of ``bot_limit_removals`` (limits the sweep is still to remove)."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await LimitRemovalsStore(schema).count(conn)
    finally:
        await engine.dispose()


def test_a_bots_limits_are_fields_of_risk_monitors_limits() -> None:
    """The bot's model is risk-monitor's ``LimitsPut`` minus the scope and the account-only limits."""
    put = LimitsPut.model_fields
    for name, field in BotRiskLimits.model_fields.items():
        assert name in put, name
        assert field.annotation == put[name].annotation, name
        assert field.default == put[name].default, name


async def test_created_limits_are_risk_monitors_and_refuse_the_bots_breaching_order(
    risk_env: RiskEnv,
) -> None:
    env = risk_env
    account_id, strategy_id = await setup(env)
    bot = await env.sr("bots_create", bot_body(account_id, strategy_id, risk_limits=LIMITS))
    bot_id = bot["bot_id"]
    registered = await risk_limits(env, account_id, bot_id)
    assert registered["updated_at"] is not None
    assert (registered["bot_id"], registered["max_order_notional"], registered["max_open_orders"]) == (
        bot_id,
        "50",
        3,
    )
    assert registered["day_boundary_tz"] == "Europe/Paris"
    shown = (await env.sr("bots_get", {"bot_id": bot_id}))["risk_limits"]
    assert shown == bot["risk_limits"]
    assert (shown["max_order_notional"], shown["max_open_orders"], shown["day_boundary_tz"]) == (
        "50",
        3,
        "Europe/Paris",
    )
    listed = (await env.sr("bots_list"))["items"]
    assert [b["risk_limits"] for b in listed] == [shown]

    await env.sr("bots_start", {"bot_id": bot_id})
    await env.market.bars(0, crossing_bar() + 1)  # 1 BTC at ~100: notional > 50

    async def refused() -> list[dict[str, Any]]:
        return [d for d in await decisions(env.sr, bot_id) if d["action"] == "refused"]

    async def was_refused() -> bool:
        return bool(await refused())

    await eventually(was_refused)
    reason = (await refused())[0]["reason"]
    assert "bot max_order_notional" in reason, reason
    listed_orders = await env.orders("orders_list", {"account_id": account_id})
    assert [o for o in listed_orders["items"] if o["status"] == "filled"] == []


async def test_limits_risk_monitor_refuses_fail_the_create_naming_the_field_and_leave_no_bot(
    risk_env: RiskEnv, database_url: str, sr_schema: str
) -> None:
    env = risk_env
    account_id, strategy_id = await setup(env)
    unknown_zone = await env.sr.error(
        "bots_create",
        bot_body(account_id, strategy_id, risk_limits=LIMITS | {"day_boundary_tz": "Mars/Base"}),
    )
    assert unknown_zone.code == "validation_error"
    assert fields(unknown_zone) == ["risk_limits.day_boundary_tz"]
    for body in (
        LIMITS | {"max_leverage": "2"},  # the account's, not a bot's: not a field of a bot's limits
        {"day_boundary_tz": "UTC"},  # no limit at all
    ):
        error = await env.sr.error("bots_create", bot_body(account_id, strategy_id, risk_limits=body))
        assert error.code == "validation_error"
        assert fields(error) and all(f.startswith("risk_limits") for f in fields(error)), fields(error)
    assert (await env.sr("bots_list"))["items"] == []
    changes = await env.risk("limit_changes", {"account_id": account_id})
    assert changes["items"] == []  # risk-monitor stored nothing either
    assert await removal_rows(database_url, sr_schema) == 0  # nor anything left to sweep


async def test_a_bot_insert_failing_after_the_put_removes_the_limits_again(
    risk_env: RiskEnv, pg_server: Any, sr_schema: str
) -> None:
    env = risk_env
    account_id, strategy_id = await setup(env)
    pg_server.execute(
        f'CREATE FUNCTION "{sr_schema}".doomed() RETURNS trigger LANGUAGE plpgsql AS '
        "$$ BEGIN RAISE EXCEPTION 'no bot today'; END $$"
    )
    pg_server.execute(
        f'CREATE TRIGGER doomed BEFORE INSERT ON "{sr_schema}".bots FOR EACH ROW '
        f"WHEN (NEW.name = 'doomed') EXECUTE FUNCTION \"{sr_schema}\".doomed()"
    )
    error = await env.sr.error(
        "bots_create", bot_body(account_id, strategy_id, name="doomed", risk_limits=LIMITS)
    )
    assert error.code == "internal"
    assert (await env.sr("bots_list"))["items"] == []
    changes = (await env.risk("limit_changes", {"account_id": account_id}))["items"]
    assert [c["action"] for c in changes] == ["delete", "put"]  # newest first
    bot_id = changes[0]["bot_id"]
    assert bot_id is not None and changes[1]["bot_id"] == bot_id
    assert (await risk_limits(env, account_id, bot_id))["updated_at"] is None


async def test_deleting_the_bot_deletes_its_limits(
    risk_env: RiskEnv, database_url: str, sr_schema: str
) -> None:
    env = risk_env
    account_id, strategy_id = await setup(env)
    bot_id = (await env.sr("bots_create", bot_body(account_id, strategy_id, risk_limits=LIMITS)))["bot_id"]
    plain = (await env.sr("bots_create", bot_body(account_id, strategy_id, name="plain")))["bot_id"]
    assert (await env.sr("bots_get", {"bot_id": plain}))["risk_limits"] is None
    assert (await risk_limits(env, account_id, plain))["updated_at"] is None  # nothing registered
    assert (await env.sr("bots_delete", {"bot_id": bot_id}))["deleted"] is True
    assert (await risk_limits(env, account_id, bot_id))["updated_at"] is None
    actions = [
        (c["bot_id"], c["action"])
        for c in (await env.risk("limit_changes", {"account_id": account_id}))["items"]
    ]
    assert actions == [(bot_id, "delete"), (bot_id, "put")]
    assert (await env.sr("bots_delete", {"bot_id": plain}))["deleted"] is True
    assert await removal_rows(database_url, sr_schema) == 0  # both removed at once: nothing to sweep


async def test_risk_monitor_not_answering_fails_the_create_with_503_and_leaves_no_bot(
    bots_env: BotsEnv,
) -> None:
    """``bots_env`` has no risk-monitor (only a stand-in of its check): no responders."""
    env = bots_env
    account_id, strategy_id = await setup(env)
    error = await env.sr.error("bots_create", bot_body(account_id, strategy_id, risk_limits=LIMITS))
    assert error.code == "unavailable"
    assert "risk limits could not be registered" in error.message
    assert (await env.sr("bots_list"))["items"] == []
    plain = await env.sr("bots_create", bot_body(account_id, strategy_id))  # no limits: no call
    assert plain["risk_limits"] is None
    assert (await env.sr("bots_delete", {"bot_id": plain["bot_id"]}))["deleted"] is True


GRID = {"lower": "90", "upper": "110", "levels": 5, "quantity_per_level": "0.1"}
DCA = {
    "base_quantity": "0.1", "safety_quantity": "0.1", "price_deviation": "0.05", "max_safety_orders": 2,
    "take_profit": "0.02",
}  # fmt: skip


async def test_grid_and_dca_bots_register_their_limits_the_same_way(risk_env: RiskEnv) -> None:
    env = risk_env
    account_id = (await env.orders("accounts_create", {"name": "kinds"}))["account_id"]
    await env.market.trade_now(100)

    async def priced() -> bool:  # market-data has applied the trade
        try:
            await env.orders.client.call_raw(
                "market-data", "latest_price", {"symbol": "BTC/USDT"}, timeout_s=10
            )
        except RemoteError:
            return False
        return True

    await eventually(priced)
    common = {"account_id": account_id, "symbol": "BTC/USDT", "risk_limits": LIMITS}
    grid = await env.sr("grid_bots_create", {"name": "grid", **GRID, **common})
    assert grid["risk_limits"]["max_order_notional"] == "50"
    assert (await env.sr("grid_bots_get", {"bot_id": grid["bot_id"]}))["risk_limits"] == grid["risk_limits"]
    assert (await risk_limits(env, account_id, grid["bot_id"]))["max_open_orders"] == 3
    dca = await env.sr("dca_bots_create", {"name": "dca", **DCA, **common})
    assert (await env.sr("dca_bots_get", {"bot_id": dca["bot_id"]}))["risk_limits"] == dca["risk_limits"]
    assert (await risk_limits(env, account_id, dca["bot_id"]))["max_order_notional"] == "50"
    refused = await env.sr.error(
        "dca_bots_create",
        {"name": "mars", **DCA, **common, "risk_limits": LIMITS | {"day_boundary_tz": "Mars/Base"}},
    )
    assert fields(refused) == ["risk_limits.day_boundary_tz"]
    for bot in (grid, dca):
        assert (await env.sr("bots_delete", {"bot_id": bot["bot_id"]}))["deleted"] is True
        assert (await risk_limits(env, account_id, bot["bot_id"]))["updated_at"] is None
    changes = (await env.risk("limit_changes", {"account_id": account_id}))["items"]
    assert sorted((c["bot_id"], c["action"]) for c in changes) == sorted(
        (bot["bot_id"], action) for bot in (grid, dca) for action in ("put", "delete")
    )  # the refused DCA bot stored nothing


async def test_risk_monitor_timing_out_fails_the_create_with_504_and_leaves_no_bot(bots_env: BotsEnv) -> None:
    """A risk-monitor that takes the request and never answers: ``timeout``, no bot, and the
    limits it may have stored are deleted again (the delete is asked too)."""
    env = bots_env
    account_id, strategy_id = await setup(env)
    asked: list[str] = []

    async def silent(msg: Msg) -> None:
        asked.append(msg.subject.rsplit(".", 1)[-1])

    nc, subjects = env.market.nc, env.market.subjects
    subs = [
        await nc.subscribe(subjects.request("risk-monitor", op), cb=silent)
        for op in ("limits_put", "limits_delete")
    ]
    try:
        error = await env.sr.error("bots_create", bot_body(account_id, strategy_id, risk_limits=LIMITS))
    finally:
        for sub in subs:
            await sub.unsubscribe()
    assert error.code == "timeout"
    assert "risk limits could not be registered" in error.message
    assert asked == ["limits_put", "limits_delete"]
    assert (await env.sr("bots_list"))["items"] == []


async def test_a_delete_risk_monitor_does_not_answer_deletes_the_bot_and_the_sweep_removes_its_limits(
    bots_env: BotsEnv, database_url: str, sr_schema: str
) -> None:
    """risk-monitor (a stand-in answering limits_put) gone before the delete: the bot is deleted
    (never left without its limits), its limits stay to remove; the sweep removes them, as the
    bot's owner, once risk-monitor answers."""
    env = bots_env
    account_id, strategy_id = await setup(env)

    async def stored(msg: Msg) -> None:
        await msg.respond(json.dumps({"data": {"account_id": account_id}}).encode())

    nc, subjects = env.market.nc, env.market.subjects
    sub = await nc.subscribe(subjects.request("risk-monitor", "limits_put"), cb=stored)
    try:
        bot_id = (await env.sr("bots_create", bot_body(account_id, strategy_id, risk_limits=LIMITS)))[
            "bot_id"
        ]
    finally:
        await sub.unsubscribe()
    assert (await env.sr("bots_delete", {"bot_id": bot_id}))["deleted"] is True
    assert (await env.sr.error("bots_get", {"bot_id": bot_id})).code == "not_found"
    engine = create_async_engine(database_url)
    removals = LimitRemovalsStore(sr_schema)
    asked: list[tuple[dict[str, Any], str | None]] = []

    async def deleted(msg: Msg) -> None:
        asked.append((json.loads(msg.data), (msg.headers or {}).get("tl-user-id")))
        await msg.respond(json.dumps({"data": {"account_id": account_id}}).encode())

    try:
        async with engine.connect() as conn:
            assert await removals.count(conn) == 1
        limits = BotRiskLimitsClient(lambda: env.orders.client, 5, lambda: engine, sr_schema)
        assert await LimitRemovals(lambda: engine, limits, 1).sweep() == 0  # still no risk-monitor: kept
        sub = await nc.subscribe(subjects.request("risk-monitor", "limits_delete"), cb=deleted)
        try:
            assert await LimitRemovals(lambda: engine, limits, 1).sweep() == 1
        finally:
            await sub.unsubscribe()
        async with engine.connect() as conn:
            assert await removals.count(conn) == 0
    finally:
        await engine.dispose()
    assert asked == [({"account_id": account_id, "bot_id": bot_id}, "alice")]
