"""End-of-day history and the new pre-trade limits: orders per minute, leverage, the hard daily loss
and the trailing drawdown that locks at the starting balance (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tradeloom.risk_monitor.domain.drawdown import eod_history, floor_today
from tradeloom.risk_monitor.domain.limits import Exposure, Limits, OrderCheck, refusals, usage

D = Decimal
START, DD = D(50_000), D(2_000)
D1 = date(2026, 11, 23)
# by hand: close, high-water, floor in force that day (min(high-water before the day − 2000, 50000))
#   d1 +1000  → 51000, hw 51000, floor 48000
#   d2 +1500  → 52500, hw 52500, floor 49000
#   d3 (none) → 52500, hw 52500, floor 50000 (52500 − 2000 = 50500: locked at the start)
#   d4 +500   → 53000, hw 53000, floor 50000
#   d5 −2500  → 50500, hw 53000, floor 50000 (would be 51000 without the lock: breached there)
#   d6 −600   → 49900, hw 53000, floor 50000 → breached on d6
HAND = [
    (D(1000), D(51000), D(51000), D(48000), False),
    (D(1500), D(52500), D(52500), D(49000), False),
    (D(0), D(52500), D(52500), D(50000), False),
    (D(500), D(53000), D(53000), D(50000), False),
    (D(-2500), D(50500), D(53000), D(50000), False),
    (D(-600), D(49900), D(53000), D(50000), True),
]
PNL = {D1 + timedelta(days=i): pnl for i, (pnl, *_) in enumerate(HAND) if pnl}


def test_the_trailing_drawdown_breaches_on_the_day_computed_by_hand_and_locks_at_the_start() -> None:
    rows = eod_history(D1, D1 + timedelta(days=5), PNL, START, DD)
    assert [(r.day_pnl, r.balance, r.high_water, r.floor, r.breached) for r in rows] == HAND
    assert [r.trading_day for r in rows] == [D1 + timedelta(days=i) for i in range(6)]
    assert floor_today(D(53000), START, DD) == START  # locked: it never trails above the start
    assert floor_today(None, START, DD) == D(48000)
    assert all(r.floor is None and not r.breached for r in eod_history(D1, D1, PNL, START, None))


FLAT = Exposure(symbol_quantity=D(0), open_orders=0, gross_exposure=D(0), day_pnl=D(0))


def buy(quantity: str, price: str = "100") -> OrderCheck:
    return OrderCheck("buy", D(quantity), D(price), D(quantity) * D(price))


def names(reasons: list[str]) -> list[str]:
    return [reason.split(":")[0] for reason in reasons]


def test_orders_per_minute_count_this_order() -> None:
    busy = Exposure(D(0), 0, D(0), D(0), orders_last_minute=5)
    assert refusals(buy("1"), busy, Limits(max_orders_per_minute=5)) == ["max_orders_per_minute: 6 > 5"]
    assert refusals(buy("1"), busy, Limits(max_orders_per_minute=6)) == []


def test_leverage_is_gross_after_the_order_over_equity_from_the_starting_balance() -> None:
    held = Exposure(D(0), 0, D(15_000), D(0), total_pnl=D(-1_000), unrealised=D(1_000))  # equity 10000
    limits = Limits(max_leverage=D(2), starting_balance=D(10_000))
    assert refusals(buy("50"), held, limits) == []  # (15000 + 5000) / 10000 = 2
    assert refusals(buy("51"), held, limits) == ["max_leverage: 2.01 > 2"]
    broke = Exposure(D(0), 0, D(0), D(0), total_pnl=D(-10_000))
    assert refusals(buy("1"), broke, limits) == ["max_leverage: equity 0 <= 0"]


def test_hard_daily_loss_refuses_entries_like_the_soft_one_and_alerts() -> None:
    losing = Exposure(D(0), 0, D(0), D(-1_000))
    limits = Limits(max_daily_loss=D(500), max_daily_loss_hard=D(1_000))
    assert names(refusals(buy("1"), losing, limits)) == ["max_daily_loss", "max_daily_loss_hard"]
    assert ("max_daily_loss_hard", D(1000), D(1000)) in usage(losing, D(0), limits)


def test_drawdown_refuses_entries_at_the_floor_and_reducing_orders_still_pass() -> None:
    limits = Limits(max_drawdown=DD, starting_balance=START)
    at_floor = Exposure(D(1), 0, D(100), D(0), total_pnl=D(-100), high_water=D(53_000))
    assert refusals(buy("1"), at_floor, limits) == ["max_drawdown: equity 49900 <= floor 50000"]
    assert refusals(OrderCheck("sell", D(1), D(100), D(100)), at_floor, limits) == []
    above = Exposure(D(0), 0, D(0), D(0), total_pnl=D(-1_900))  # before any close: floor 48000
    assert refusals(buy("1"), above, limits) == []
    # used 1900 of the 2000 between the high-water mark (the start) and the floor
    assert ("max_drawdown", D(1900), D(2000)) in usage(above, D(0), limits)
