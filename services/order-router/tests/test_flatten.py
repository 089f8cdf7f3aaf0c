"""risk-monitor's ``risk.evt.flatten`` closes every position of the account, exactly once.

Both tests run on real NATS and Postgres: one with the service in-process (what is cancelled, what
is closed, the completion event and audit, and acting on the same event again), one with the
service as a real child process killed with SIGKILL right after the flatten event is published and
started again (the positions still end at zero exactly once).
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from nats.aio.client import Client
from or_harness import Caller, Neighbours, router_process
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_crash_recovery import _answers
from test_orders_flow import balances, open_account, priced, status_of

from tradeloom.order_router.flatten import Flattener, close_client_id
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.contracts.orders import FlattenCompleted
from tradeloom.shared.contracts.risk import FlattenPosition, RiskFlatten
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually

D = Decimal


async def publish_flatten(neighbours: Neighbours, user_id: str, account_id: str) -> Envelope:
    """risk-monitor's flatten of the account (what it holds is re-folded by the router)."""
    publisher = EventPublisher(neighbours.nc.jetstream(), neighbours.subjects, "tradeloom/risk-monitor")
    event = RiskFlatten(
        user_id=user_id,
        account_id=account_id,
        reason="max_daily_loss_hard: loss 1200 >= 1000",
        positions=[FlattenPosition(symbol="BTC/USDT", quantity=D("0.5"))],
    )
    envelope, _ = await publisher.publish(event, account_id)
    return envelope


async def completed_events(nc: Client, subjects: Subjects, account_id: str) -> list[FlattenCompleted]:
    """Every ``flatten_completed`` event of the account on the ORDERS stream."""
    subject = subjects.event("orders", "flatten_completed", 1, account_id)
    sub = await nc.jetstream().pull_subscribe(subject, stream=subjects.stream("ORDERS"))
    try:
        pending = (await sub.consumer_info()).num_pending
        messages = await sub.fetch(pending, timeout=10) if pending else []
        return [Envelope.from_bytes(m.data).unwrap(FlattenCompleted) for m in messages]
    finally:
        await sub.unsubscribe()


async def rows(engine: AsyncEngine, sql: str, **params: Any) -> list[Any]:
    async with engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def buy(alice: Caller, account_id: str, symbol: str, quantity: str, **more: Any) -> dict[str, Any]:
    body = {"account_id": account_id, "symbol": symbol, "side": "buy", "type": "market", "quantity": quantity}
    return await alice("orders_submit", {**body, **more})


async def test_a_flatten_cancels_open_orders_then_sells_every_long_once(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str, nc: Client
) -> None:
    account_id = await open_account(alice)
    other = await open_account(alice)  # the user's other account is left alone
    await priced(neighbours, db_engine, or_schema, "100")
    await neighbours.trade("100", "0.01", symbol="ETH/USDT")
    await eventually(lambda: _priced(db_engine, or_schema, "ETH/USDT"))
    btc = await buy(alice, account_id, "BTC/USDT", "0.5")
    eth = await buy(alice, account_id, "ETH/USDT", "2")
    kept = await buy(alice, other, "BTC/USDT", "0.1")
    await neighbours.trade("100", "10")
    await neighbours.trade("100", "10", symbol="ETH/USDT")
    for order in (btc, eth, kept):
        await eventually(lambda o=order: _status_is(alice, o["order_id"], "filled"))
    resting = await alice(
        "orders_submit",
        {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "limit",
         "quantity": "1", "price": "90"},
    )  # fmt: skip

    flatten = await publish_flatten(neighbours, "alice", account_id)
    await eventually(lambda: _status_is(alice, resting["order_id"], "canceled"))
    assert (await status_of(alice, resting["order_id"]))["reject_reason"] == "flatten"
    closes = await eventually(lambda: _closes(db_engine, or_schema, flatten.id, 2))
    assert {(c.symbol, c.client_order_id, c.side, c.type, c.reduce_only, c.quantity) for c in closes} == {
        ("BTC/USDT", close_client_id(flatten.id, "BTC/USDT"), "sell", "market", True, D("0.5")),
        ("ETH/USDT", close_client_id(flatten.id, "ETH/USDT"), "sell", "market", True, D(2)),
    }
    await neighbours.trade("101", "10")
    await neighbours.trade("101", "10", symbol="ETH/USDT")
    done = await eventually(lambda: _completed(nc, neighbours.subjects, account_id))
    assert done.flatten_id == flatten.id and done.outcome == "closed"
    assert {(o.symbol, o.status, o.filled_quantity) for o in done.orders} == {
        ("BTC/USDT", "filled", D("0.5")),
        ("ETH/USDT", "filled", D(2)),
    }
    held = await balances(alice, account_id)
    assert held["BTC"] == (D(0), D(0)) and held["ETH"] == (D(0), D(0))
    assert (await balances(alice, other))["BTC"] == (D("0.1"), D(0))
    audit = await rows(
        db_engine,
        f'SELECT action FROM "{or_schema}".account_audit WHERE account_id = :a ORDER BY id',
        a=account_id,
    )
    assert [r.action for r in audit if r.action.startswith("flatten")] == [
        "flatten_started",
        "flatten_completed",
    ]

    # The same event again (its inbox row pruned, or a replay): nothing more is closed or announced.
    ledger = Ledger(or_schema, Outbox(or_schema, neighbours.subjects, "tradeloom/order-router"))
    async with db_engine.begin() as conn:
        await Flattener(ledger).on_flatten(conn, flatten)
    assert (
        len(await rows(db_engine, f'SELECT id FROM "{or_schema}".orders WHERE flatten_id IS NOT NULL')) == 2
    )
    assert len(await completed_events(nc, neighbours.subjects, account_id)) == 1


async def test_kill_9_mid_flatten_closes_the_position_exactly_once(
    or_settings: OrderRouterSettings,
    neighbours: Neighbours,
    nc: Client,
    db_engine: AsyncEngine,
    or_schema: str,
    tmp_path: Path,
) -> None:
    router = router_process(or_settings, tmp_path)
    await asyncio.to_thread(router.start)
    alice = Caller(ServiceClient(nc, neighbours.subjects), "alice")
    try:
        await eventually(lambda: _answers(alice), timeout=120)
        account_id = await open_account(alice)
        await priced(neighbours, db_engine, or_schema, "100")
        order = await buy(alice, account_id, "BTC/USDT", "0.75")
        await neighbours.trade("100", "10")
        await eventually(lambda: _status_is(alice, order["order_id"], "filled"), timeout=120)

        flatten = await publish_flatten(neighbours, "alice", account_id)
        router.kill()  # before, during or just after acting on it: the restart must not double it
        await asyncio.to_thread(router.start)
        await eventually(lambda: _answers(alice), timeout=120)
        closes = await eventually(lambda: _closes(db_engine, or_schema, flatten.id, 1), timeout=120)
        assert closes[0].quantity == D("0.75")

        async def filled() -> FlattenCompleted | None:
            await neighbours.trade("99", "10")  # the market goes on until the close has filled
            return await _completed(nc, neighbours.subjects, account_id)

        done = await eventually(filled, timeout=120, interval=0.5)
        assert done.outcome == "closed"
        assert (await balances(alice, account_id))["BTC"] == (D(0), D(0))
        fills = await rows(
            db_engine,
            f'SELECT f.quantity FROM "{or_schema}".fills f JOIN "{or_schema}".orders o ON o.id = f.order_id '
            "WHERE o.flatten_id = :f",
            f=flatten.id,
        )
        assert sum(f.quantity for f in fills) == D("0.75")
        assert len(await completed_events(nc, neighbours.subjects, account_id)) == 1
    finally:
        router.close()


async def _priced(engine: AsyncEngine, schema: str, symbol: str) -> bool:
    found = await rows(engine, f'SELECT 1 FROM "{schema}".last_prices WHERE symbol = :s', s=symbol)
    return bool(found)


async def _status_is(alice: Caller, order_id: str, status: str) -> bool:
    return bool((await status_of(alice, order_id))["status"] == status)


async def _closes(engine: AsyncEngine, schema: str, flatten_id: str, n: int) -> list[Any] | None:
    found = await rows(
        engine, f'SELECT * FROM "{schema}".orders WHERE flatten_id = :f ORDER BY symbol', f=flatten_id
    )
    return found if len(found) == n else None


async def _completed(nc: Client, subjects: Subjects, account_id: str) -> FlattenCompleted | None:
    events = await completed_events(nc, subjects, account_id)
    return events[0] if events else None
