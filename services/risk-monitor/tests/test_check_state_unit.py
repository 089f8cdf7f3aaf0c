"""``CheckState``'s view of an account without Postgres: the counts and sums the check measures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tradeloom.risk_monitor.check_state import CheckState
from tradeloom.risk_monitor.store.check_store import AccountSnapshot, CheckStore, OrderSeen, PositionRow

D = Decimal
NOW = datetime.now(UTC)
DAY = NOW.replace(hour=0, minute=0, second=0, microsecond=0)


def state_with(snap: AccountSnapshot) -> CheckState:
    state = CheckState(lambda: None, CheckStore("risk_monitor"), refresh_s=10)  # type: ignore[arg-type,return-value]
    state._accounts["a"] = snap
    state._prices_loaded = True
    return state


def snapshot() -> AccountSnapshot:
    snap = AccountSnapshot(day_start=DAY, high_water=D(1000))
    for row in (
        PositionRow("BTC/USDT", "", D(2), D(100), D(5), D(1)),
        PositionRow("BTC/USDT", "bot1", D(-1), D(110), D(0), D("0.5")),
        PositionRow("ETH/USDT", "bot1", D(3), D(10), D(-2), D(0)),
    ):
        snap.positions[(row.symbol, row.bot_id, row.position_side)] = row
    snap.orders = {
        "o-open": OrderSeen("", open=True, created_at=NOW - timedelta(minutes=10)),
        "o-new": OrderSeen("bot1", open=True, created_at=NOW - timedelta(seconds=5)),
        "o-done": OrderSeen("", open=False, created_at=NOW - timedelta(seconds=20)),
    }
    snap.day_pnl = {"": D(-3), "bot1": D(-4)}
    return snap


def test_the_account_and_a_bot_are_measured_as_the_query_does() -> None:
    state = state_with(snapshot())
    state.set_price("BTC/USDT", D(120), 1)
    snap = state.known("a", DAY)
    assert snap is not None
    minute_ago = NOW - timedelta(minutes=1)
    account = state.exposure(snap, "BTC/USDT", {"o-new"}, minute_ago)
    assert account.symbol_quantity == D(1)
    assert (account.open_orders, account.orders_last_minute) == (1, 1)  # o-new is pending: left out
    assert account.gross_exposure == D(120) + D(30)  # BTC net 1 × 120; ETH 3 × entry 10 (no price)
    assert account.total_pnl == D("1.5")  # realised − fees of every row, bots included
    assert account.unrealised == D(2) * 20 + D(-1) * 10  # only the symbols with a price
    assert (account.day_pnl, account.high_water) == (D(-7), D(1000))
    bot = state.exposure(snap, "BTC/USDT", set(), minute_ago, bot_id="bot1")
    assert (bot.symbol_quantity, bot.open_orders, bot.orders_last_minute) == (D(-1), 1, 1)
    assert bot.gross_exposure == D(120) + D(30)
    assert bot.day_pnl == D(-4) and bot.total_pnl == D("1.5")  # PnL and equity stay the account's


def test_order_updates_apply_in_memory_and_older_prices_are_ignored() -> None:
    state = state_with(snapshot())
    state.order_stored("a", "o-open", OrderSeen("", open=False, created_at=NOW - timedelta(minutes=10)))
    snap = state.known("a", DAY)
    assert snap is not None
    assert state.exposure(snap, "BTC/USDT", set(), NOW - timedelta(minutes=1)).open_orders == 1
    assert state.known("a", DAY + timedelta(days=1)) is None  # a new trading day is read again
    state.set_price("BTC/USDT", D(120), 5)
    state.set_price("BTC/USDT", D(90), 4)  # older: ignored
    assert state.prices["BTC/USDT"] == (D(120), 5)


async def test_a_fill_forgets_the_account_and_starts_reading_it_again() -> None:
    state = state_with(snapshot())
    state.forget("a")
    assert state.known("a", DAY) is None
    read = state._loading[("a", DAY)]  # started at once; here without a database it fails
    with pytest.raises(AttributeError):
        await read


def test_hedge_sides_are_two_positions_gross_adds_them() -> None:
    snap = AccountSnapshot(day_start=DAY)
    for row in (
        PositionRow("BTC/USDT:USDT", "", D(2), D(100), D(0), D(0), "long"),
        PositionRow("BTC/USDT:USDT", "", D(-1), D(100), D(0), D(0), "short"),
    ):
        snap.positions[(row.symbol, row.bot_id, row.position_side)] = row
    state = state_with(snap)
    got = state.exposure(snap, "BTC/USDT:USDT", set(), NOW - timedelta(minutes=1))
    assert (got.symbol_quantity, got.gross_exposure) == (D(1), D(300))  # net 1; gross 200 + 100
