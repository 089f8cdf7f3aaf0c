"""Synthetic option instruments of the synthetic venue, so option chains exist without a venue that
lists options: for each simulated spot symbol, calls and puts on the next ``WEEKLIES`` Friday
expiries and the last Friday of the next ``MONTHLIES`` months (08:00 UTC, as the common crypto
option venues), at strikes from 70 % to 130 % of the configured start price in 5 % steps (rounded
to two significant digits of the step). Symbols follow ccxt: ``BTC/USDT:USDT-261225-65000-C``."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from tradeloom.market_data.domain.instruments import instrument_from_record
from tradeloom.shared.contracts.market_data import Instrument

WEEKLIES = 4
MONTHLIES = 2
MONEYNESS = [Decimal(70 + 5 * step) / 100 for step in range(13)]  # 0.70 … 1.30
FRIDAY = 4
EXPIRY_TIME = time(8, 0, tzinfo=UTC)


def expiries(today: date) -> list[datetime]:
    """The next weekly Fridays after today and the last Friday of the following months, sorted."""
    first = today + timedelta(days=(FRIDAY - today.weekday()) % 7 or 7)
    days = {first + timedelta(weeks=week) for week in range(WEEKLIES)}
    year, month = today.year, today.month
    for _ in range(MONTHLIES):
        month, year = (1, year + 1) if month == 12 else (month + 1, year)
        last = date(year, month, calendar.monthrange(year, month)[1])
        days.add(last - timedelta(days=(last.weekday() - FRIDAY) % 7))
    return [datetime.combine(day, EXPIRY_TIME) for day in sorted(days)]


def strikes(reference: float) -> list[Decimal]:
    """Strikes around ``reference``: each moneyness level rounded to a round step."""
    step = Decimal(str(reference)) * Decimal("0.05")
    unit = Decimal(10) ** (step.adjusted() - 1)  # two significant digits of the step
    return sorted({(Decimal(str(reference)) * m / unit).to_integral_value() * unit for m in MONEYNESS})


def synthetic_options(
    venue: str, symbols: list[str], start_prices: list[float], today: date
) -> list[Instrument]:
    """Calls and puts for each spot symbol (its start price, else 100) on each expiry and strike;
    a perpetual (``BTC/USDT:USDT``) gets none: its options are the spot symbol's."""
    out: list[Instrument] = []
    for index, symbol in enumerate(symbols):
        if ":" in symbol:
            continue
        base, _, quote = symbol.partition("/")
        reference = start_prices[index] if index < len(start_prices) else 100.0
        for expiry in expiries(today):
            for strike in strikes(reference):
                for kind, letter in (("call", "C"), ("put", "P")):
                    record = {
                        "symbol": f"{base}/{quote}:{quote}-{expiry:%y%m%d}-{strike.normalize():f}-{letter}",
                        "kind": "option", "underlying": base, "strike": str(strike), "option_type": kind,
                        "expiry": expiry.isoformat(), "tick_size": "0.01", "lot_size": "0.01",
                        "min_notional": "0",
                    }  # fmt: skip
                    out.append(instrument_from_record(venue, record))
    return out
