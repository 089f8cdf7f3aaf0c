"""The pre-trade rules: each limit refuses entries and names itself; reducing orders pass."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal

from tradeloom.risk_monitor.domain.limits import (
    Exposure,
    Limits,
    OrderCheck,
    alert_level,
    refusals,
    tightest,
    trading_day,
)

FLAT = Exposure(symbol_quantity=Decimal(0), open_orders=0, gross_exposure=Decimal(0), day_pnl=Decimal(0))


def buy(quantity: str, price: str = "100") -> OrderCheck:
    q, p = Decimal(quantity), Decimal(price)
    return OrderCheck("buy", q, p, q * p)


def sell(quantity: str, price: str = "100") -> OrderCheck:
    q, p = Decimal(quantity), Decimal(price)
    return OrderCheck("sell", q, p, q * p)


def names(reasons: list[str]) -> list[str]:
    return [reason.split(":")[0] for reason in reasons]


def test_no_limits_approve_everything() -> None:
    assert refusals(buy("1000"), FLAT, Limits()) == []


def test_each_limit_refuses_an_entry_and_is_named() -> None:
    assert refusals(buy("20"), FLAT, Limits(max_order_notional=Decimal(1000))) == [
        "max_order_notional: 2000 > 1000"
    ]
    held = Exposure(Decimal(8), 0, Decimal(800), Decimal(0))
    assert names(refusals(buy("3"), held, Limits(max_position_notional=Decimal(1000)))) == [
        "max_position_notional"
    ]
    busy = Exposure(Decimal(0), 3, Decimal(0), Decimal(0))
    assert names(refusals(buy("1"), busy, Limits(max_open_orders=3))) == ["max_open_orders"]
    assert (
        refusals(buy("1"), Exposure(Decimal(0), 2, Decimal(0), Decimal(0)), Limits(max_open_orders=3)) == []
    )
    losing = Exposure(Decimal(0), 0, Decimal(0), Decimal(-500))
    assert names(refusals(buy("1"), losing, Limits(max_daily_loss=Decimal(500)))) == ["max_daily_loss"]
    assert refusals(buy("1"), losing, Limits(max_daily_loss=Decimal(501))) == []
    exposed = Exposure(Decimal(0), 0, Decimal(900), Decimal(0))
    assert names(refusals(buy("2"), exposed, Limits(max_gross_exposure=Decimal(1000)))) == [
        "max_gross_exposure"
    ]


def test_reducing_orders_pass_a_breach_but_a_flip_does_not() -> None:
    long = Exposure(Decimal(5), 10, Decimal(50_000), Decimal(-10_000))
    strict = Limits(
        max_order_notional=Decimal(1),
        max_open_orders=1,
        max_daily_loss=Decimal(1),
        max_gross_exposure=Decimal(1),
        max_position_notional=Decimal(1),
    )
    assert refusals(sell("5"), long, strict) == []
    assert len(refusals(sell("6"), long, strict)) == 5


def test_user_and_account_limits_combine_to_the_tighter() -> None:
    account = Limits(max_order_notional=Decimal(500), day_boundary_tz="America/Chicago")
    user = Limits(max_order_notional=Decimal(300), max_open_orders=4)
    merged = tightest(account, user)
    assert merged.max_order_notional == Decimal(300)
    assert merged.max_open_orders == 4
    assert merged.day_boundary_tz == "America/Chicago"
    assert tightest(None, user) == user
    assert tightest(None, None) == Limits()


def test_trading_day_boundary() -> None:
    now = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    day, start = trading_day(now, "UTC", time(0, 0))
    assert day == date(2026, 12, 6) and start == datetime(2026, 12, 6, tzinfo=UTC)
    # 17:00 Chicago (UTC-6 in December) = 23:00 UTC: 03:00 UTC belongs to the day begun on the 5th
    day, start = trading_day(now, "America/Chicago", time(17, 0))
    assert day == date(2026, 12, 5)
    assert start.astimezone(UTC) == datetime(2026, 12, 5, 23, 0, tzinfo=UTC)


def test_alert_levels() -> None:
    assert alert_level(Decimal(79), Decimal(100), Decimal(80)) is None
    assert alert_level(Decimal(80), Decimal(100), Decimal(80)) == "approaching"
    assert alert_level(Decimal(100), Decimal(100), Decimal(80)) == "breached"
