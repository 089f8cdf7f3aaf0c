"""A bot's risk limits changed by ``bots_update`` (the real risk-monitor, market-data and
order-router over real NATS and Postgres): they apply at once, a running bot too (its next
crossing order is refused by the tighter limit); risk-monitor's set and the bot's copy stay in
step on every failure: a refusal (422 naming ``risk_limits.<field>``), no answer (503), a timeout
(504, the old set put back), the bot's write failing after the put (the old set put back)."""

from __future__ import annotations

from typing import Any

from bots_harness import BotsEnv, crossing_bar, decisions, eventually
from nats.aio.msg import Msg
from sr_caller import fields
from test_bot_config import audit
from test_bot_risk_limits import LIMITS, RiskEnv, bot_body, risk_env, risk_limits, setup  # noqa: F401

from tradeloom.shared.rpc import RemoteError

LOOSE = {"max_order_notional": "1000"}
TIGHT = {"max_order_notional": "50"}


async def test_a_tighter_limit_applies_at_once_to_a_running_bot(risk_env: RiskEnv) -> None:  # noqa: F811
    env = risk_env
    account_id, strategy_id = await setup(env)
    bot = await env.sr("bots_create", bot_body(account_id, strategy_id, risk_limits=LOOSE))
    bot_id = bot["bot_id"]
    await env.sr("bots_start", {"bot_id": bot_id})
    updated = await env.sr("bots_update", {"bot_id": bot_id, "risk_limits": TIGHT})
    assert updated["risk_limits"]["max_order_notional"] == "50" and updated["pending_config"] is None
    assert (await risk_limits(env, account_id, bot_id))["max_order_notional"] == "50"
    [(changes, effective)] = await audit(env, bot_id)
    assert effective == "now"
    assert (changes["risk_limits"]["old"]["max_order_notional"], changes["risk_limits"]["new"]) == (
        "1000",
        updated["risk_limits"],
    )

    await env.market.bars(0, crossing_bar() + 1)  # 1 BTC at ~100: over the new 50, under the old 1000

    async def refused() -> list[dict[str, Any]]:
        return [d for d in await decisions(env.sr, bot_id) if d["action"] == "refused"]

    async def was_refused() -> bool:
        return bool(await refused())

    await eventually(was_refused)
    assert "bot max_order_notional" in (await refused())[0]["reason"]

    # refused by risk-monitor: 422 naming the field, nothing changed on either side
    error = await env.sr.error(
        "bots_update",
        {"bot_id": bot_id, "name": "x", "risk_limits": TIGHT | {"day_boundary_tz": "Mars/Base"}},
    )
    assert (error.code, fields(error)) == ("validation_error", ["risk_limits.day_boundary_tz"])
    assert (await env.sr("bots_get", {"bot_id": bot_id}))["risk_limits"] == updated["risk_limits"]
    assert (await risk_limits(env, account_id, bot_id))["max_order_notional"] == "50"
    assert len(await audit(env, bot_id)) == 1


async def test_the_bots_write_failing_after_the_put_puts_the_old_limits_back(
    risk_env: RiskEnv,  # noqa: F811
    pg_server: Any,
    sr_schema: str,
) -> None:
    env = risk_env
    account_id, strategy_id = await setup(env)
    bot_id = (await env.sr("bots_create", bot_body(account_id, strategy_id, risk_limits=TIGHT)))["bot_id"]
    pg_server.execute(
        f'CREATE FUNCTION "{sr_schema}".doomed() RETURNS trigger LANGUAGE plpgsql AS '
        "$$ BEGIN RAISE EXCEPTION 'no limits today'; END $$"
    )
    pg_server.execute(
        f'CREATE TRIGGER doomed BEFORE UPDATE ON "{sr_schema}".bots FOR EACH ROW '
        f"WHEN (NEW.risk_limits->>'max_order_notional' = '7') EXECUTE FUNCTION \"{sr_schema}\".doomed()"
    )
    error = await env.sr.error("bots_update", {"bot_id": bot_id, "risk_limits": {"max_order_notional": "7"}})
    assert error.code == "internal"
    assert (await env.sr("bots_get", {"bot_id": bot_id}))["risk_limits"]["max_order_notional"] == "50"
    assert (await risk_limits(env, account_id, bot_id))["max_order_notional"] == "50"
    changes = (await env.risk("limit_changes", {"account_id": account_id}))["items"]
    assert [c["action"] for c in changes] == ["put", "put", "put"]  # newest first: back, the 7, create's
    assert await audit(env, bot_id) == []


async def test_risk_monitor_silent_or_timing_out_changes_nothing(bots_env: BotsEnv) -> None:
    """``bots_env`` has no risk-monitor: 503; then one taking the put and never answering: 504,
    and the old set (here: none) restored, i.e. the delete asked."""
    env = bots_env
    account_id, strategy_id = await setup(env)
    bot_id = (await env.sr("bots_create", bot_body(account_id, strategy_id)))["bot_id"]
    before = await env.sr("bots_get", {"bot_id": bot_id})
    error = await env.sr.error("bots_update", {"bot_id": bot_id, "name": "x", "risk_limits": LIMITS})
    assert error.code == "unavailable" and "were not changed" in error.message
    asked: list[str] = []

    async def silent(msg: Msg) -> None:
        asked.append(msg.subject.rsplit(".", 1)[-1])

    nc, subjects = env.market.nc, env.market.subjects
    subs = [
        await nc.subscribe(subjects.request("risk-monitor", op), cb=silent)
        for op in ("limits_put", "limits_delete")
    ]
    try:
        timed_out = await env.sr.error("bots_update", {"bot_id": bot_id, "risk_limits": LIMITS})
    finally:
        for sub in subs:
            await sub.unsubscribe()
    assert timed_out.code == "timeout"
    assert asked == ["limits_put", "limits_delete"]
    assert await env.sr("bots_get", {"bot_id": bot_id}) == before
    assert await audit(env, bot_id) == []


async def test_a_grid_bots_limits_change_at_once_while_it_runs(risk_env: RiskEnv) -> None:  # noqa: F811
    """Grid and DCA bots share the update (``kind_bot_config.py``): the limits apply at once."""
    env = risk_env
    account_id = (await env.orders("accounts_create", {"name": "grid"}))["account_id"]
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
    grid = await env.sr(
        "grid_bots_create",
        {"name": "grid", "account_id": account_id, "symbol": "BTC/USDT", "lower": "90", "upper": "110",
         "levels": 5, "quantity_per_level": "0.1", "risk_limits": LOOSE},
    )  # fmt: skip
    ref = {"bot_id": grid["bot_id"]}
    await env.sr("grid_bots_start", ref)
    refused = await env.sr.error("grid_bots_update", ref | {"risk_limits": {"day_boundary_tz": "UTC"}})
    assert refused.code == "validation_error" and fields(refused)[0].startswith("risk_limits")
    updated = await env.sr("grid_bots_update", ref | {"risk_limits": TIGHT})
    assert updated["risk_limits"]["max_order_notional"] == "50" and updated["status"] == "running"
    assert (await risk_limits(env, account_id, grid["bot_id"]))["max_order_notional"] == "50"
    [entry] = (await env.sr("grid_bots_config_changes", ref))["items"]
    assert entry["effective"] == "now" and set(entry["changes"]) == {"risk_limits"}
