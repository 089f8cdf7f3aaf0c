"""The newer limits over real NATS and Postgres: the end-of-day history at a 17:00 Chicago boundary
and the trailing drawdown, the hard daily loss (flatten event), orders per minute, the audit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from nats.aio.client import Client
from nats.aio.msg import Msg
from rm_harness import T0, RiskCaller, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.shared.rpc import RemoteError

D = Decimal
ACCOUNT = "acc-dd"


def check_body(side: str, quantity: str, order_id: str = "o-new") -> dict[str, Any]:
    return {"user_id": "alice", "account_id": ACCOUNT, "order_id": order_id, "client_order_id": order_id,
            "venue": "sim", "symbol": "BTC/USDT", "side": side, "type": "limit", "quantity": quantity,
            "price": "100", "notional": str(D(quantity) * 100)}  # fmt: skip


def at(moment: datetime) -> float:
    """Seconds from the harness's T0 (what ``RiskCaller.fill`` takes)."""
    return (moment - T0).total_seconds()


async def test_end_of_day_history_at_a_chicago_boundary_breaches_the_drawdown_on_the_day_by_hand(
    risk: RiskCaller, db_engine: AsyncEngine, rm_settings: RiskMonitorSettings
) -> None:
    # Trading days start at 17:00 in Chicago (23:00 UTC in November). Each day: a buy of 10 at 17:30
    # and the sell at 16:30 the next afternoon, still the same trading day. By hand (see
    # test_domain_drawdown): closes 51000, 52500, 52500 (no fills), 53000, 50500, 49900; the floor
    # trails the high-water mark 2000 below and locks at 50000, so the breach is on the sixth day.
    script = [(0, "100", "200"), (1, "100", "250"), (3, "100", "150"), (4, "500", "250"), (5, "100", "40")]
    first = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    for day, buy, sell in script:
        opened = first + timedelta(days=day)
        await risk.fill(ACCOUNT, f"b{day}", "buy", buy, "10", seconds=at(opened))
        await risk.fill(ACCOUNT, f"s{day}", "sell", sell, "10", seconds=at(opened + timedelta(hours=23)))
    await eventually(lambda: _stored(db_engine, rm_settings, 10))
    limits = {"account_id": ACCOUNT, "starting_balance": "50000", "max_drawdown": "2000",
              "day_boundary_tz": "America/Chicago", "day_boundary_time": "17:00"}  # fmt: skip
    await risk("limits_put", limits)

    async def rolled() -> list[dict[str, Any]]:
        items = (await risk("eod_balances", {"account_id": ACCOUNT, "limit": 200}))["items"]
        return list(reversed(items))

    async def has_six() -> bool:
        rows = await rolled()
        return len(rows) >= 6 and rows[5]["breached"] is True

    await eventually(has_six)
    rows = await rolled()
    assert [r["trading_day"] for r in rows[:6]] == [f"2026-11-{d}" for d in range(23, 29)]
    assert [(r["day_pnl"], r["balance"], r["high_water"], r["floor"], r["breached"]) for r in rows[:6]] == [
        ("1000", "51000", "51000", "48000", False),
        ("1500", "52500", "52500", "49000", False),
        ("0", "52500", "52500", "50000", False),  # no fills that day: rolled all the same
        ("500", "53000", "53000", "50000", False),
        ("-2500", "50500", "53000", "50000", False),  # the lock: 51000 without it
        ("-600", "49900", "53000", "50000", True),
    ]
    assert all(r["floor"] == "50000" for r in rows[6:])  # every later day up to yesterday, locked
    refused = await risk("check", check_body("buy", "1"))
    assert refused == {"approved": False, "reason": "max_drawdown: equity 49900 <= floor 50000"}
    bad = await risk.error("limits_put", {"account_id": ACCOUNT, "max_drawdown": "10"})
    assert bad.code == "validation_error" and "starting_balance" in str(bad.details)


async def test_a_hard_daily_loss_asks_to_flatten_the_account_once(
    risk: RiskCaller, nc: Client, db_engine: AsyncEngine, rm_settings: RiskMonitorSettings
) -> None:
    flattens: list[dict[str, Any]] = []

    async def keep(message: Msg) -> None:
        flattens.append(json.loads(message.data))

    sub = await nc.subscribe(risk.subjects.pattern("risk.evt.flatten.v1.>"), cb=keep)
    await risk.fill(ACCOUNT, "f0", "buy", "1", "0.001", symbol="ETH/USDT")
    await eventually(lambda: _stored(db_engine, rm_settings, 1))
    await risk("limits_put", {"account_id": ACCOUNT, "max_daily_loss": "50", "max_daily_loss_hard": "100"})
    now = at(datetime.now(UTC))
    await risk.fill(ACCOUNT, "f1", "buy", "100", "10", seconds=now)
    await risk.fill(ACCOUNT, "f2", "sell", "80", "6", seconds=now + 1)  # -120: hard breach, 4 still held
    await risk.fill(ACCOUNT, "f3", "sell", "80", "1", seconds=now + 2)  # breached again: no second flatten
    await eventually(lambda: _stored(db_engine, rm_settings, 4))
    await eventually(lambda: _has(flattens, 1))
    await eventually(lambda: _alert(risk, "max_daily_loss_hard"))
    (event,) = flattens
    assert event["data"]["account_id"] == ACCOUNT
    held = [(p["symbol"], D(p["quantity"])) for p in event["data"]["positions"]]
    assert held == [("BTC/USDT", D(4)), ("ETH/USDT", D("0.001"))]
    assert event["data"]["reason"].startswith("max_daily_loss_hard breached")
    reasons = (await risk("check", check_body("buy", "1")))["reason"]
    assert reasons == "max_daily_loss: loss 140 >= 50; max_daily_loss_hard: loss 140 >= 100"
    assert (await risk("check", check_body("sell", "1")))["approved"] is True  # reducing passes
    await sub.unsubscribe()
    assert len(flattens) == 1


async def test_orders_per_minute_count_the_orders_created_in_the_last_minute(risk: RiskCaller) -> None:
    now = at(datetime.now(UTC))
    for n in range(3):
        await risk.order(ACCOUNT, f"o{n}", f"c{n}", status="canceled", seconds=now - n)
    await risk.order(ACCOUNT, "old", "c-old", status="canceled", seconds=now - 120)
    await eventually(lambda: _owned(risk))
    await risk("limits_put", {"account_id": ACCOUNT, "max_orders_per_minute": 3})

    async def counted() -> bool:
        reply = await risk("check", check_body("buy", "1"))
        return reply.get("reason") == "max_orders_per_minute: 4 > 3"

    await eventually(counted)
    await risk("limits_put", {"account_id": ACCOUNT, "max_orders_per_minute": 4})
    assert (await risk("check", check_body("buy", "1")))["approved"] is True


async def test_every_limit_change_is_audited_and_listed_to_its_owner_only(risk: RiskCaller) -> None:
    await risk("limits_put", {"max_order_notional": "1000"})
    await risk("limits_put", {"max_order_notional": "500", "max_leverage": "3", "starting_balance": "10000"})
    await risk("limits_delete", {})
    changes = (await risk("limit_changes", {}))["items"]
    assert [c["action"] for c in changes] == ["delete", "put", "put"]
    deleted, changed, created = changes
    assert created["old_values"] is None and created["new_values"]["max_order_notional"] == "1000"
    assert changed["old_values"]["max_order_notional"] == "1000"
    assert changed["new_values"]["max_order_notional"] == "500"
    assert changed["new_values"]["max_leverage"] == "3"
    assert deleted["old_values"] == changed["new_values"] and deleted["new_values"] is None
    assert {c["changed_by"] for c in changes} == {"alice"} and changed["account_id"] is None
    assert (await risk.as_user("bob")("limit_changes", {}))["items"] == []


async def _stored(engine: AsyncEngine, settings: RiskMonitorSettings, n: int) -> bool:
    async with engine.connect() as conn:
        count = await conn.scalar(
            text(f'SELECT count(*) FROM "{settings.db_schema}".fills WHERE account_id = :a'), {"a": ACCOUNT}
        )
    return int(count or 0) >= n


async def _owned(risk: RiskCaller) -> bool:
    """The account's owner is known once an order event of it is consumed."""
    try:
        await risk("limits_get", {"account_id": ACCOUNT})
    except RemoteError:
        return False
    return True


async def _has(items: list[Any], n: int) -> bool:
    return len(items) >= n


async def _alert(risk: RiskCaller, name: str) -> bool:
    items = (await risk("alerts_list", {"account_id": ACCOUNT}))["items"]
    return any(item["limit_name"] == name and item["level"] == "breached" for item in items)


async def test_the_trading_day_keeps_its_intraday_high_water_mark_and_drawdown(risk: RiskCaller) -> None:
    now = at(datetime.now(UTC))
    await risk.fill(ACCOUNT, "h1", "buy", "100", "10", "1", seconds=now)  # -1 (fee)
    await risk.fill(ACCOUNT, "h2", "sell", "110", "5", seconds=now + 1)  # +50: 49, the high
    await risk.fill(ACCOUNT, "h3", "sell", "90", "5", seconds=now + 2)  # -50: -1

    async def folded() -> bool:
        try:  # the owner is known once a fill is folded
            exposure = await risk("exposure", {"account_id": ACCOUNT})
        except RemoteError:
            return False
        return (D(exposure["day_pnl"]), D(exposure["day_high_water"])) == (D(-1), D(49))  # after h3

    await eventually(folded)
    exposure = await risk("exposure", {"account_id": ACCOUNT})
    assert (D(exposure["day_high_water"]), D(exposure["day_drawdown"])) == (D(49), D(50))
