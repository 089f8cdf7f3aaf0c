"""Symbols normalise one way; instruments load from a file and from ccxt's market structures."""

from __future__ import annotations

import json
from decimal import Decimal

import ccxt
import pytest

from tradeloom.market_data.domain.instruments import (
    InstrumentError,
    instrument_from_ccxt,
    instruments_from_file_text,
)
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol, token_form
from tradeloom.shared.subjects import symbol_token


@pytest.mark.parametrize("raw", ["BTC/USDT", "btc/usdt", "BTC-USDT", "btc_usdt", " BTC/USDT "])
def test_symbol_spellings_normalise_to_the_wire_form(raw: str) -> None:
    assert normalise_symbol(raw) == "BTC/USDT"
    assert symbol_token(token_form(normalise_symbol(raw))) == "BTC-USDT"


def test_derivative_symbols_keep_settle_and_make_valid_tokens() -> None:
    assert symbol_token(token_form(normalise_symbol("BTC/USDT:USDT"))) == "BTC-USDT_USDT"
    option = normalise_symbol("btc/usd:btc-240329-60000-c")
    assert option == "BTC/USD:BTC-240329-60000-C"
    assert symbol_token(token_form(option)) == "BTC-USD_BTC-240329-60000-C"


@pytest.mark.parametrize("raw", ["", "BTC", "BTC/USDT/X", "BTC.USDT", "BTC/US DT", "a-b-c"])
def test_bad_symbols_are_refused(raw: str) -> None:
    with pytest.raises(SymbolError):
        normalise_symbol(raw)


def test_instruments_file_with_every_kind() -> None:
    text = json.dumps(
        {
            "venues": {
                "paper": [
                    {"symbol": "btc-usdt", "tick_size": "0.01", "lot_size": "0.0001", "min_notional": "5"},
                    {
                        "symbol": "BTC/USDT:USDT",
                        "kind": "perpetual",
                        "tick_size": "0.1",
                        "lot_size": "0.001",
                        "min_notional": "5",
                    },
                    {
                        "symbol": "BTC/USD:BTC-240329",
                        "kind": "future",
                        "tick_size": "0.5",
                        "lot_size": "1",
                        "min_notional": "0",
                        "expiry": "2024-03-29T08:00:00Z",
                        "multiplier": "100",
                    },
                    {
                        "symbol": "BTC/USD:BTC-240329-60000-C",
                        "kind": "option",
                        "tick_size": "0.0005",
                        "lot_size": "0.1",
                        "min_notional": "0",
                        "expiry": "2024-03-29T08:00:00Z",
                        "underlying": "BTC",
                        "strike": "60000",
                        "option_type": "call",
                        "status": "inactive",
                    },
                ]
            }
        }
    )
    spot, perp, future, option = instruments_from_file_text(text)
    assert (spot.symbol, spot.kind, spot.base, spot.quote) == ("BTC/USDT", "spot", "BTC", "USDT")
    assert perp.settle == "USDT" and perp.kind == "perpetual"
    assert future.multiplier == Decimal(100) and future.expiry is not None
    assert option.strike == Decimal(60000) and option.option_type == "call" and option.status == "inactive"


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"symbol": "BTC/USDT", "tick_size": "0", "lot_size": "1", "min_notional": "0"}, "tick_size"),
        ({"symbol": "BTC/USDT", "tick_size": "NaN", "lot_size": "1", "min_notional": "0"}, "tick_size"),
        ({"symbol": "nope", "tick_size": "1", "lot_size": "1", "min_notional": "0"}, "symbol"),
        (
            {"symbol": "BTC/USDT", "tick_size": "1", "lot_size": "1", "min_notional": "0", "kind": "swap"},
            "kind",
        ),
    ],
)
def test_bad_instrument_records_name_the_problem(record: dict[str, str], field: str) -> None:
    with pytest.raises(InstrumentError, match=field):
        instruments_from_file_text(json.dumps({"venues": {"paper": [record]}}))


def test_ccxt_market_structures_map_to_instruments() -> None:
    spot = {
        "symbol": "ETH/USDT",
        "type": "spot",
        "base": "ETH",
        "quote": "USDT",
        "settle": None,
        "active": True,
        "precision": {"price": 0.01, "amount": 0.0001},
        "limits": {"cost": {"min": 5.0}},
    }
    swap = {
        "symbol": "ETH/USDT:USDT",
        "type": "swap",
        "base": "ETH",
        "quote": "USDT",
        "settle": "USDT",
        "active": False,
        "precision": {"price": 2, "amount": 3},
        "limits": {"cost": {"min": None}},
        "contractSize": 1,
    }
    a = instrument_from_ccxt("binance", spot, ccxt.TICK_SIZE)
    b = instrument_from_ccxt("binance", swap, ccxt.DECIMAL_PLACES)
    assert (a.tick_size, a.lot_size, a.min_notional) == (Decimal("0.01"), Decimal("0.0001"), Decimal(5))
    assert (b.kind, b.status, b.tick_size, b.lot_size) == (
        "perpetual",
        "inactive",
        Decimal("0.01"),
        Decimal("0.001"),
    )


@pytest.mark.parametrize(
    ("filters", "band"),
    [
        ([{"filterType": "PERCENT_PRICE", "multiplierUp": "1.1", "multiplierDown": "0.95"}], Decimal(5)),
        (
            [
                {
                    "filterType": "PERCENT_PRICE_BY_SIDE",
                    "bidMultiplierUp": "5",
                    "bidMultiplierDown": "0.2",
                    "askMultiplierUp": "5",
                    "askMultiplierDown": "0.2",
                }
            ],
            Decimal(80),
        ),
        ([{"filterType": "PERCENT_PRICE", "multiplierUp": "5", "multiplierDown": "0"}], None),  # not a band
        ([{"filterType": "LOT_SIZE", "stepSize": "0.001"}], None),
        (None, None),
    ],
)
def test_a_venue_percent_price_filter_becomes_the_price_band(
    filters: list[dict[str, str]] | None, band: Decimal | None
) -> None:
    market = {"symbol": "BTC/USDT", "type": "spot", "base": "BTC", "quote": "USDT", "limits": {},
              "precision": {"price": 0.01, "amount": 0.0001}, "info": {"filters": filters}}  # fmt: skip
    assert instrument_from_ccxt("binance", market, ccxt.TICK_SIZE).price_band_pct == band


def test_an_instruments_file_may_give_a_price_band() -> None:
    text = json.dumps({"venues": {"sim": [{"symbol": "BTC/USDT", "tick_size": "0.5", "lot_size": "0.001",
                                           "min_notional": "5", "price_band_pct": "7.5"}]}})  # fmt: skip
    (instrument,) = instruments_from_file_text(text)
    assert instrument.price_band_pct == Decimal("7.5")
    refused = text.replace('"7.5"', '"100"')
    with pytest.raises(InstrumentError, match="price_band_pct"):
        instruments_from_file_text(refused)
