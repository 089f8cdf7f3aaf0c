"""Instrument records from a file (non-ccxt venues) or from ccxt's market list.

Both give ``Instrument`` contract models with a normalised symbol; anything malformed raises
``InstrumentError`` naming the entry and the field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol, split_symbol
from tradeloom.shared.contracts.market_data import Instrument

_CCXT_KIND = {"spot": "spot", "swap": "perpetual", "future": "future", "option": "option"}


class InstrumentError(ValueError):
    """An instrument entry that cannot be loaded."""


def _decimal(value: Any, default: str) -> Decimal:
    if value is None:
        return Decimal(default)
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise InstrumentError(f"not a number: {value!r}") from None
    if not number.is_finite():
        raise InstrumentError(f"not a finite number: {value!r}")
    return number


def instrument_from_record(venue: str, record: dict[str, Any]) -> Instrument:
    """One instrument from a file record (fields as in the ``Instrument`` contract)."""
    try:
        symbol = normalise_symbol(str(record.get("symbol", "")))
        base, quote, settle = split_symbol(symbol)
        data = {"venue": venue, "base": base, "quote": quote, "settle": settle, "kind": "spot"}
        data.update(record)
        data["symbol"] = symbol
        return Instrument.model_validate(data)
    except (SymbolError, ValidationError) as error:
        raise InstrumentError(f"instrument {record.get('symbol')!r} of {venue}: {error}") from None


def instruments_from_file_text(text: str) -> list[Instrument]:
    """``{"venues": {"<venue>": [ {symbol, kind, tick_size, …}, … ]}}`` as JSON."""
    try:
        document = json.loads(text)
        venues = document["venues"]
    except (ValueError, KeyError, TypeError):
        raise InstrumentError('instruments file must be JSON {"venues": {"<venue>": [ … ]}}') from None
    return [instrument_from_record(venue, record) for venue, records in venues.items() for record in records]


def _plain(number: Decimal) -> Decimal:
    """ccxt's floats as the venue wrote them: 1.0 → 1 (never an exponent such as 1E+2)."""
    return number.quantize(Decimal(1)) if number == number.to_integral_value() else number.normalize()


def _precision_step(value: Any, mode: int | None) -> Decimal:
    """ccxt precision: a step size (TICK_SIZE mode, 4) or a number of decimals (DECIMAL_PLACES, 2)."""
    if value is None:
        return Decimal("0.00000001")
    if mode == 2 or (isinstance(value, int) and mode is None):
        return Decimal(1).scaleb(-int(value))
    return _decimal(value, "0.00000001")


def instrument_from_ccxt(venue: str, market: dict[str, Any], precision_mode: int | None = None) -> Instrument:
    """One instrument from a ccxt unified market structure (``exchange.load_markets()`` values)."""
    kind = _CCXT_KIND.get(str(market.get("type")))
    if kind is None:
        raise InstrumentError(f"market {market.get('symbol')!r}: unsupported type {market.get('type')!r}")
    limits = market.get("limits") or {}
    precision = market.get("precision") or {}
    expiry_ms = market.get("expiry")
    record = {
        "symbol": market.get("symbol"),
        "kind": kind,
        "base": market.get("base"),
        "quote": market.get("quote"),
        "settle": market.get("settle"),
        "tick_size": _precision_step(precision.get("price"), precision_mode),
        "lot_size": _precision_step(precision.get("amount"), precision_mode),
        "min_notional": _decimal((limits.get("cost") or {}).get("min"), "0"),
        "status": "active" if market.get("active", True) is not False else "inactive",
        "expiry": datetime.fromtimestamp(expiry_ms / 1000, UTC) if expiry_ms else None,
        "strike": None if market.get("strike") is None else _plain(_decimal(market["strike"], "0")),
        "option_type": market.get("optionType"),
        "underlying": market.get("base") if kind == "option" else None,
        "multiplier": _plain(_decimal(market.get("contractSize"), "1")),
        "price_band_pct": percent_price_band(market.get("info")),
    }
    return instrument_from_record(venue, record)


def percent_price_band(info: Any) -> Decimal | None:
    """The venue's percent-price filter as a band in percent, where its raw market info has one
    (Binance's ``PERCENT_PRICE`` / ``PERCENT_PRICE_BY_SIDE``: a price within the average price ×
    [down, up]): the narrower side, so a price inside our band is inside the venue's. ``None``
    when the venue shows no such filter or it is not a band below 100 %."""
    filters = info.get("filters") if isinstance(info, dict) else None
    for entry in filters if isinstance(filters, list) else ():
        if not isinstance(entry, dict):
            continue
        if entry.get("filterType") == "PERCENT_PRICE":
            up, down = entry.get("multiplierUp"), entry.get("multiplierDown")
        elif entry.get("filterType") == "PERCENT_PRICE_BY_SIDE":
            up, down = entry.get("askMultiplierUp"), entry.get("bidMultiplierDown")
        else:
            continue
        if up is None or down is None:
            return None
        band = min(_decimal(up, "0") - 1, 1 - _decimal(down, "1")) * 100
        return band.normalize() if 0 < band < 100 else None
    return None


def default_sim_instruments(venue: str, symbols: list[str]) -> list[Instrument]:
    """Instruments for the synthetic venue's configured symbols: a symbol with a settle asset
    (``BTC/USDT:USDT``) is a linear perpetual settled in it, one contract = 1 base (``multiplier``);
    the others are spot."""
    made = []
    for s in symbols:
        record = {"symbol": s, "tick_size": "0.01", "lot_size": "0.00001", "min_notional": "1"}
        if ":" in s:
            record.update(kind="perpetual", multiplier="1")
        made.append(instrument_from_record(venue, record))
    return made
