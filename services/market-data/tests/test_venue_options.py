"""The pure mapping of a ccxt venue's option chain: which markets belong to an underlying and
expiry, and one option's quote from ccxt's unified ticker and Greeks (missing sides are None)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tradeloom.market_data.domain.instruments import instrument_from_ccxt
from tradeloom.market_data.domain.venue_options import chain_markets, venue_quote

EXPIRY_MS = int(datetime(2026, 12, 25, 8, tzinfo=UTC).timestamp() * 1000)


def market(
    symbol: str, base: str = "BTC", kind: str = "option", expiry: int | None = EXPIRY_MS
) -> dict[str, Any]:
    return {"symbol": symbol, "type": kind, "base": base, "quote": "USDT", "settle": "USDT",
            "expiry": expiry, "strike": 65000, "optionType": "call", "contractSize": 1.0,
            "precision": {"price": 5.0, "amount": 0.01}, "limits": {}, "active": None}  # fmt: skip


def test_the_chain_is_the_underlyings_options_of_the_expiry_asked() -> None:
    markets = {
        m["symbol"]: m
        for m in (
            market("BTC/USDT:USDT-261225-65000-C"),
            market("BTC/USDT:USDT-270101-65000-C", expiry=EXPIRY_MS + 7 * 86_400_000),
            market("ETH/USDT:USDT-261225-3000-C", base="ETH"),
            market("BTC/USDT", kind="spot", expiry=None),
        )
    }
    assert [m["symbol"] for m in chain_markets(markets, "BTC/USDT", None)] == [
        "BTC/USDT:USDT-261225-65000-C",
        "BTC/USDT:USDT-270101-65000-C",
    ]
    assert [m["symbol"] for m in chain_markets(markets, "BTC/USDT", date(2026, 12, 25))] == [
        "BTC/USDT:USDT-261225-65000-C"
    ]
    assert chain_markets(markets, "SOL/USDT", None) == []


def test_an_option_market_becomes_an_option_instrument_with_plain_numbers() -> None:
    made = instrument_from_ccxt("binance", market("BTC/USDT:USDT-261225-65000-C"), 4)
    assert (made.kind, made.underlying, made.settle, made.option_type, made.status) == (
        "option", "BTC", "USDT", "call", "active",
    )  # fmt: skip
    assert (str(made.strike), str(made.multiplier), str(made.tick_size)) == ("65000", "1", "5.0")
    assert made.expiry == datetime(2026, 12, 25, 8, tzinfo=UTC)


def test_a_quote_keeps_what_the_venue_gave_and_drops_empty_or_broken_values() -> None:
    ticker = {"bid": 4885.0, "ask": 0.0, "last": 4930.0, "info": {"exercisePrice": "64250.5"}}
    greeks = {"markPrice": 4890.0, "bidImpliedVolatility": 0.51, "askImpliedVolatility": None,
              "markImpliedVolatility": 0.53, "delta": 0.42, "gamma": 4e-05, "theta": -61.5,
              "vega": float("nan")}  # fmt: skip
    q = venue_quote("S", "BTC/USDT", ticker, greeks)
    assert q is not None
    assert (q.bid, q.ask, q.last, q.mark, q.underlying_price) == (
        Decimal(4885), None, Decimal(4930), Decimal(4890), Decimal("64250.5"),
    )  # fmt: skip
    assert (q.bid_iv, q.ask_iv, q.mark_iv, q.delta, q.gamma, q.theta, q.vega) == (
        0.51, None, 0.53, 0.42, 4e-05, -61.5, None,
    )  # fmt: skip
    only_ticker = venue_quote("S", "BTC/USDT", {"bid": "12.5", "ask": "-1", "last": "x"}, None)
    assert only_ticker is not None
    assert (only_ticker.bid, only_ticker.ask, only_ticker.last, only_ticker.mark, only_ticker.delta) == (
        Decimal("12.5"), None, None, None, None,
    )  # fmt: skip
    assert venue_quote("S", "BTC/USDT", None, None) is None
