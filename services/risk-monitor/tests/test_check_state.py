"""The check's memory of an account (``check_state.py``) equals what Postgres answers, after fills,
out-of-order fills, a bot's fills arriving before its order, order updates and marks."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from rm_harness import T0, RiskCaller, make_caller
from sqlalchemy import text

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
    """risk-monitor whose background re-read does not run during the test: memory follows events only
    (and the end-of-day roll runs once, at start: the fills of ``T0``'s day are not rolled meanwhile)."""
    update = {"check_state_refresh_s": 600, "eod_interval_s": 600}
    runtime = app.build(rm_settings.model_copy(update=update))
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


def seconds_into_today() -> float:
    """Seconds from the harness' fixed ``T0`` to the start of today's UTC trading day."""
    _, day_start = trading_day(datetime.now(UTC), "UTC", datetime.min.time())
    return (day_start - T0).total_seconds()


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
    today = seconds_into_today()  # the fills fall on today's trading day (day PnL; no end-of-day roll)
    await risk.order(ACCOUNT, "o1", "manual-1", seconds=today + 1)  # the account's owner is known from it
    await eventually(lambda: owner_known(risk), "the order event folded", timeout=30)
    await eventually(lambda: settled(risk), "events consumed", timeout=30)
    await risk("limits_put", {"account_id": ACCOUNT, "max_order_notional": "1000000"})
    await risk("limits_put", {"account_id": ACCOUNT, "bot_id": str(BOT), "max_open_orders": 100})
    assert (await risk("check", check("o-first")))["approved"] is True  # reads the account once
    # fills: a manual one, a bot's before its order's event, one out of order, another symbol
    await risk.fill(ACCOUNT, "f1", "buy", "100", "2", fee="0.5", seconds=today + 2, order_id="o1")
    await risk.fill(ACCOUNT, "f3", "buy", "110", "2", seconds=today + 4, order_id="o-bot")
    await risk.order(ACCOUNT, "o-bot", BOT_ORDER, seconds=today + 3)
    await risk.fill(ACCOUNT, "f0", "sell", "90", "1", fee="0.1", seconds=today + 1.5, order_id="o1")
    await risk.fill(ACCOUNT, "f4", "sell", "50", "3", seconds=today + 5, symbol="ETH/USDT")
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
    await risk.order(ACCOUNT, "o1", "manual-1", status="filled", seconds=today + 6)
    await risk.order(ACCOUNT, "o1", "manual-1", status="new", seconds=today + 5.5)  # older: never reopens
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


async def latest_high_water(risk: RiskCaller) -> Decimal | None:
    assert risk.runtime is not None
    schema = risk.runtime.settings.db_schema
    async with risk.runtime.engine.connect() as conn:
        value = await conn.scalar(
            text(
                f'SELECT high_water FROM "{schema}".eod_balances WHERE account_id = :a '
                "ORDER BY trading_day DESC LIMIT 1"
            ),
            {"a": ACCOUNT},
        )
    return None if value is None else Decimal(value)


async def test_an_end_of_day_roll_reaches_the_checks_memory(
    rm_settings: RiskMonitorSettings, streams: Subjects, nc: Client
) -> None:
    """Fills of a day that has ended (``T0``'s) are rolled into the balance history; the snapshot the
    check holds takes the roll's high-water mark at its commit, without the background re-read."""
    update = {"check_state_refresh_s": 600, "eod_interval_s": 0.3}
    runtime = app.build(rm_settings.model_copy(update=update))
    await runtime.start()
    try:
        risk = make_caller(nc, streams, "alice")
        risk.runtime = runtime
        await risk.order(ACCOUNT, "o1", "manual-1", seconds=1)
        await eventually(lambda: owner_known(risk), "the order event folded", timeout=30)
        await risk("limits_put", {"account_id": ACCOUNT, "max_order_notional": "1000000"})
        assert (await risk("check", check("o-before")))["approved"] is True  # the snapshot, before the roll
        await risk.fill(ACCOUNT, "f1", "buy", "100", "2", fee="0.5", seconds=2, order_id="o1")
        await risk.fill(ACCOUNT, "f2", "sell", "110", "2", fee="0.5", seconds=3, order_id="o1")
        await eventually(lambda: settled(risk), "events consumed", timeout=30)

        async def rolled() -> bool:  # both fills in: a roll between the two (every 0.3 s) holds
            return await latest_high_water(risk) == Decimal("19")  # the first alone until the next

        await eventually(rolled, "the ended day rolled with both fills", timeout=30)
        assert (await risk("check", check("o-after")))["approved"] is True

        async def remembered() -> bool:
            _, day_start = trading_day(datetime.now(UTC), "UTC", datetime.min.time())
            snap = state_of(risk).known(ACCOUNT, day_start)
            return snap is not None and snap.high_water == await latest_high_water(risk)

        await eventually(remembered, "the check's memory has the rolled high-water mark", timeout=30)
        assert await latest_high_water(risk) == Decimal("19")  # 0 + (110 - 100) x 2 - 1 of fees
    finally:
        await runtime.stop()
