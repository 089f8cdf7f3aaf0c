"""Refusals: bad inputs (422 naming the field, nothing written), the fail-closed risk check, halts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from or_harness import Caller, Neighbours, eventually, fields
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import balances, open_account, priced, status_of

D = Decimal


async def order_count(db_engine: AsyncEngine, schema: str) -> int:
    async with db_engine.connect() as conn:
        return int((await conn.execute(text(f'SELECT count(*) FROM "{schema}".orders'))).scalar_one())


BAD: list[tuple[dict[str, Any], tuple[str, str]]] = [
    ({"symbol": "DOGE/USDT"}, ("symbol", "unknown_symbol")),
    ({"price": "100.3"}, ("price", "off_tick")),
    ({"quantity": "0.0015"}, ("quantity", "off_lot")),
    ({"quantity": "0.01"}, ("quantity", "below_min_notional")),
    ({"quantity": "500"}, ("quantity", "insufficient_funds")),
    ({"type": "stop_limit"}, ("stop_price", "required")),
    ({"time_in_force": "gtd"}, ("expire_at", "required")),
    ({"surprise": True}, ("surprise", "")),
    ({"price": "NaN"}, ("price", "")),
    ({"quantity": "Infinity"}, ("quantity", "")),
    ({"quantity": "-1"}, ("quantity", "")),
    ({"price": "1e30"}, ("price", "")),
    ({"side": "long"}, ("side", "")),
]


@pytest.mark.parametrize(("change", "expected"), BAD)
async def test_bad_orders_are_refused_naming_the_field(
    alice: Caller,
    neighbours: Neighbours,
    db_engine: AsyncEngine,
    or_schema: str,
    change: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    account_id = await open_account(alice)
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "100", **change}  # fmt: skip
    error = await alice.error("orders_submit", body)
    assert error.code == "validation_error"
    field, rule = expected
    assert field in [name for name, _ in fields(error)], error.details
    if rule:
        assert (field, rule) in fields(error)
    assert await order_count(db_engine, or_schema) == 0  # nothing half-written
    assert await balances(alice, account_id) == {"USDT": (D(10_000), D(0))}


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("absent", "risk_check_unavailable"),
        ("slow", "risk_check_unavailable"),
        ("error", "risk_check_unavailable"),
        ("reject", "risk_rejected: limit"),
    ],
)
async def test_risk_check_fails_closed(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str, mode: str, reason: str
) -> None:
    account_id = await open_account(alice)
    if mode == "absent":
        await neighbours.drop_risk()
    neighbours.risk_mode = mode
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "100"}  # fmt: skip
    order = await alice("orders_submit", body)
    assert (order["status"], order["reject_reason"]) == ("rejected", reason)
    assert await balances(alice, account_id) == {"USDT": (D(10_000), D(0))}  # the lock came back

    # an admin lets this account fail open: the order passes and the bypass is audited
    if mode != "reject":
        flag = {"account_id": account_id, "fail_open": True, "reason": "maintenance"}
        await alice.as_user("root", "admin")("accounts_risk_fail_open", flag)
        passed = await alice("orders_submit", {**body, "client_order_id": "after-flag"})
        assert passed["status"] == "new"
        async with db_engine.connect() as conn:
            audit = (
                await conn.execute(text(f'SELECT actor, action FROM "{or_schema}".account_audit ORDER BY id'))
            ).all()
        expected = [("alice", "create"), ("root", "risk_fail_open")]
        if mode != "approve":
            expected.append(("order-router", "risk_check_bypassed"))
        assert [tuple(row) for row in audit] == expected


async def test_halt_cancels_open_orders_and_refuses_new_ones_until_resume(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "100"}  # fmt: skip
    resting = await alice("orders_submit", body)
    bob = alice.as_user("bob")
    bob_account = await open_account(bob)
    bobs = await bob("orders_submit", {**body, "account_id": bob_account})

    await neighbours.halt("user", "alice")

    async def canceled() -> bool:
        return bool((await status_of(alice, resting["order_id"]))["status"] == "canceled")

    await eventually(canceled)
    assert (await status_of(alice, resting["order_id"]))["reject_reason"] == "trading_halted"
    refused = await alice.error("orders_submit", {**body, "client_order_id": "during-halt"})
    assert refused.code == "conflict" and refused.details["reason"] == "trading_halted"
    assert (await status_of(bob, bobs["order_id"]))["status"] == "new"  # bob is not halted
    assert await balances(alice, account_id) == {"USDT": (D(10_000), D(0))}

    await neighbours.halt("global", None)

    async def bob_canceled() -> bool:
        return bool((await status_of(bob, bobs["order_id"]))["status"] == "canceled")

    await eventually(bob_canceled)
    await neighbours.halt("user", "alice", resume=True)
    await neighbours.halt("global", None, resume=True)

    async def resumed() -> bool:
        async with db_engine.connect() as conn:
            left = (await conn.execute(text(f'SELECT count(*) FROM "{or_schema}".halts'))).scalar_one()
        return bool(left == 0)

    await eventually(resumed)
    assert (await alice("orders_submit", {**body, "client_order_id": "after-resume"}))["status"] == "new"


async def test_gtd_orders_expire_and_ioc_takes_one_trade(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    account_id = await open_account(alice)
    await priced(neighbours, db_engine, or_schema, "100")
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1",
            "price": "90"}  # fmt: skip
    gtd = await alice("orders_submit", {**body, "time_in_force": "gtd", "expire_at": soon})
    ioc = await alice("orders_submit", {**body, "time_in_force": "ioc", "price": "100"})

    async def gtd_expired() -> bool:
        return bool((await status_of(alice, gtd["order_id"]))["status"] == "expired")

    await eventually(gtd_expired)
    await neighbours.trade("100", "0.25")

    async def ioc_done() -> bool:
        return bool((await status_of(alice, ioc["order_id"]))["status"] == "expired")

    await eventually(ioc_done)
    final = await status_of(alice, ioc["order_id"])
    assert final["filled_quantity"] == "0.25" and final["reject_reason"] == "ioc_remainder"
    usdt = (await balances(alice, account_id))["USDT"]
    assert usdt == (D(10_000) - D(25) - D("0.025"), D(0))  # maker fee 0.1 % on 25, every lock released


async def test_an_account_stop_cancels_and_refuses_on_that_account_only_until_its_resume(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    stopped, other = await open_account(alice), await open_account(alice)
    body = {"symbol": "BTC/USDT", "side": "buy", "type": "limit", "quantity": "1", "price": "100"}
    resting = await alice("orders_submit", {**body, "account_id": stopped})
    kept = await alice("orders_submit", {**body, "account_id": other})

    await neighbours.account_halt("alice", stopped)

    async def canceled() -> bool:
        return bool((await status_of(alice, resting["order_id"]))["status"] == "canceled")

    await eventually(canceled)
    assert (await status_of(alice, resting["order_id"]))["reject_reason"] == "trading_halted"
    refused = await alice.error(
        "orders_submit", {**body, "account_id": stopped, "client_order_id": "stopped"}
    )
    assert refused.code == "conflict" and refused.details["reason"] == "trading_halted"
    assert (await status_of(alice, kept["order_id"]))["status"] == "new"  # the user's other account trades on
    assert (await alice("orders_submit", {**body, "account_id": other, "client_order_id": "other"}))[
        "status"
    ] == "new"

    await neighbours.account_halt("alice", stopped, resume=True)

    async def resumed() -> bool:
        async with db_engine.connect() as conn:
            left = (await conn.execute(text(f'SELECT count(*) FROM "{or_schema}".halts'))).scalar_one()
        return bool(left == 0)

    await eventually(resumed)
    after = await alice("orders_submit", {**body, "account_id": stopped, "client_order_id": "after-resume"})
    assert after["status"] == "new"
