"""The check's memory of an account (``check_state.py``) equals what Postgres answers, after fills,
out-of-order fills, a bot's fills arriving before its order, order updates and marks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client
from rm_harness import T0, RiskCaller, make_caller

from tradeloom.risk_monitor import app
from tradeloom.risk_monitor.check_state import CheckState
from tradeloom.risk_monitor.domain.limits import Exposure, trading_day
from tradeloom.risk_monitor.settings import RiskMonitorSettings
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled, eventually

ACCOUNT = "acc-state"
BOT = uuid.uuid4()
BOT_ORDER = f"bot-{BOT.hex}-1"
BOT_ORDER_3 = f"bot-{BOT.hex}-3"  # not BOT_ORDER.replace("-1", …): a bot id may start with 1


@pytest.fixture
async def risk_slow_refresh(
    rm_settings: RiskMonitorSettings, streams: Subjects, nc: Client
) -> AsyncIterator[RiskCaller]:
    """risk-monitor whose background re-read does not run during the test: memory follows events only."""
    runtime = app.build(rm_settings.model_copy(update={"check_state_refresh_s": 600}))
    await runtime.start()
    try:
        caller = make_caller(nc, streams, "alice")
        caller.runtime = runtime
        yield caller
    finally:
        await runtime.stop()


def state_of(risk: RiskCaller) -> CheckState:
    assert risk.runtime is not None
    handler = next(op for op in risk.runtime.operations if op.name == "check").handler
    state = handler.__self__.state  # type: ignore[attr-defined]
    assert isinstance(state, CheckState)
    return state


def check(order_id: str, client_order_id: str = "c") -> dict[str, Any]:
    return {"user_id": "alice", "account_id": ACCOUNT, "order_id": order_id,
            "client_order_id": client_order_id, "venue": "sim", "symbol": "BTC/USDT", "side": "buy",
            "type": "limit", "quantity": "0.01", "price": "100", "notional": "1"}  # fmt: skip


async def settled(risk: RiskCaller) -> bool:
    js = risk.nc.jetstream()
    return await consumer_settled(
        js, risk.subjects.stream("ORDERS"), "risk_monitor_orders"
    ) and await consumer_settled(js, risk.subjects.stream("MD_TRADES"), "risk_monitor_marks")


async def owner_known(risk: RiskCaller) -> bool:
    """The effect itself, not the consumer's counters (a consumer's pending count can lag a publish
    on a loaded server: the test once asked for limits before the order event was folded)."""
    assert risk.runtime is not None
    async with risk.runtime.engine.connect() as conn:
        store = PositionsStore(risk.runtime.settings.db_schema)
        return await store.account_owner(conn, ACCOUNT) is not None


async def compare(risk: RiskCaller) -> list[tuple[Exposure, Exposure]]:
    """(memory, Postgres) for each symbol and scope (the account, the bot); the account must be known."""
    assert risk.runtime is not None
    state = state_of(risk)
    now = datetime.now(UTC)
    _, day_start = trading_day(now, "UTC", datetime.min.time())
    snap = state.known(ACCOUNT, day_start)
    assert snap is not None
    store = PositionsStore(risk.runtime.settings.db_schema)
    pairs = []
    async with risk.runtime.engine.connect() as conn:
        for symbol in ("BTC/USDT", "ETH/USDT"):
            for bot in (None, str(BOT)):
                minute_ago = now - timedelta(minutes=1)
                db = await store.exposure(
                    conn, ACCOUNT, symbol, [], day_start=day_start, minute_ago=minute_ago, bot_id=bot
                )
                pairs.append((state.exposure(snap, symbol, set(), minute_ago, bot), db))
    return pairs


async def test_memory_equals_postgres_after_fills_orders_and_marks(risk_slow_refresh: RiskCaller) -> None:
    risk = risk_slow_refresh
    await risk.order(ACCOUNT, "o1", "manual-1", seconds=1)  # the account's owner is known from it
    await eventually(lambda: owner_known(risk), "the order event folded", timeout=30)
    await eventually(lambda: settled(risk), "events consumed", timeout=30)
    await risk("limits_put", {"account_id": ACCOUNT, "max_order_notional": "1000000"})
    await risk("limits_put", {"account_id": ACCOUNT, "bot_id": str(BOT), "max_open_orders": 100})
    assert (await risk("check", check("o-first")))["approved"] is True  # reads the account once
    # fills: a manual one, a bot's before its order's event, one out of order, another symbol
    await risk.fill(ACCOUNT, "f1", "buy", "100", "2", fee="0.5", seconds=2, order_id="o1")
    await risk.fill(ACCOUNT, "f3", "buy", "110", "2", seconds=4, order_id="o-bot")
    await risk.order(ACCOUNT, "o-bot", BOT_ORDER, seconds=3)
    await risk.fill(ACCOUNT, "f0", "sell", "90", "1", fee="0.1", seconds=1.5, order_id="o1")
    await risk.fill(ACCOUNT, "f4", "sell", "50", "3", seconds=5, symbol="ETH/USDT")
    await risk.trade("120")
    await eventually(lambda: settled(risk), "events consumed", timeout=30)
    assert (await risk("check", check("o-second")))["approved"] is True  # reads it again
    for memory, db in await compare(risk):
        assert memory == db
    reads = state_of(risk).reads
    # order updates and marks only: applied to memory, the account is not read again
    recent = (datetime.now(UTC) - T0).total_seconds()
    await risk.order(ACCOUNT, "o2", "manual-2", seconds=recent)
    await risk.order(ACCOUNT, "o3", BOT_ORDER_3, seconds=recent)
    await risk.order(ACCOUNT, "o1", "manual-1", status="filled", seconds=6)
    await risk.order(ACCOUNT, "o1", "manual-1", status="new", seconds=5.5)  # older: never reopens
    await risk.trade("125")
    await risk.trade("45", symbol="ETH/USDT")
    await eventually(lambda: settled(risk), "events consumed", timeout=30)
    pairs = await compare(risk)
    for memory, db in pairs:
        assert memory == db
    assert state_of(risk).reads == reads
    account_btc, bot_btc = pairs[0][0], pairs[1][0]
    assert (account_btc.open_orders, account_btc.orders_last_minute) == (3, 2)  # o-bot, o2, o3
    assert (bot_btc.open_orders, bot_btc.orders_last_minute) == (2, 1)  # o-bot, o3
    assert account_btc.unrealised != 0 and account_btc.day_pnl != 0
