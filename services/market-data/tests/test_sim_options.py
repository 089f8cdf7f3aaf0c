"""Synthetic option instruments: weekly and monthly Friday expiries, strikes around the start
price, calls and puts in ccxt's symbol form, valid ``Instrument`` records."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from tradeloom.market_data.domain.sim_options import expiries, strikes, synthetic_options


def test_expiries_are_the_next_fridays_and_month_ends() -> None:
    """Sunday 2026-12-06: Fridays 11, 18, 25 Dec and 1 Jan; last Fridays of Jan (29) and Feb (26)."""
    got = [e.date() for e in expiries(date(2026, 12, 6))]
    assert got == [date(2026, 12, 11), date(2026, 12, 18), date(2026, 12, 25), date(2027, 1, 1),
                   date(2027, 1, 29), date(2027, 2, 26)]  # fmt: skip
    assert expiries(date(2026, 12, 11))[0].date() == date(2026, 12, 18)  # a Friday: the next one
    assert all(e.tzinfo == UTC and e.hour == 8 for e in expiries(date(2026, 12, 6)))


def test_strikes_and_instruments() -> None:
    assert strikes(65000.0)[:3] == [Decimal(45500), Decimal(48800), Decimal(52000)]
    assert len(strikes(3500.0)) == 13 and strikes(3500.0)[6] == Decimal(3500)
    options = synthetic_options("sim", ["BTC/USDT"], [65000.0], date(2026, 12, 6))
    assert len(options) == 6 * 13 * 2
    first = options[0]
    assert (first.symbol, first.kind, first.option_type, first.underlying) == (
        "BTC/USDT:USDT-261211-45500-C",
        "option",
        "call",
        "BTC",
    )
    assert first.expiry == datetime(2026, 12, 11, 8, tzinfo=UTC) and first.strike == Decimal(45500)
    assert {o.option_type for o in options} == {"call", "put"}


def test_a_perpetual_gets_no_options_of_its_own() -> None:
    options = synthetic_options("sim", ["BTC/USDT", "BTC/USDT:USDT"], [65000.0, 65000.0], date(2026, 12, 6))
    assert len(options) == 6 * 13 * 2 and all(o.symbol.count(":") == 1 for o in options)
