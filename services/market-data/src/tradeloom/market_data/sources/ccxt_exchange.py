"""Building a ccxt exchange from settings, and turning ccxt's unified structures into ours.

ccxt gives floats; they become Decimals through their shortest repr (``str``), which is what the
venue sent for any price or size with up to 15 significant digits. Anything not finite or not
positive is refused here (the edge), with the field named in the log.
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

import ccxt.async_support as ccxt_async
import ccxt.pro as ccxt_pro

from tradeloom.market_data.domain.book import Level
from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.instruments import InstrumentError, instrument_from_ccxt
from tradeloom.market_data.domain.symbols import SymbolError
from tradeloom.market_data.source_settings import LiveSourceSettings
from tradeloom.shared.contracts.market_data import Instrument, TradeTick

log = logging.getLogger(__name__)


class LiveSourceError(ValueError):
    """A live source that cannot be built from its settings."""


def _merge(target: dict[str, Any], extra: dict[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value


def make_exchange(config: LiveSourceSettings) -> tuple[Any, bool]:
    """(exchange, uses websockets): ccxt.pro where the venue has it and ``transport`` allows."""
    has_pro = config.exchange in getattr(ccxt_pro, "exchanges", [])
    if config.transport == "ws" and not has_pro:
        raise LiveSourceError(f"exchange {config.exchange!r} has no websocket API in ccxt.pro")
    module = ccxt_pro if has_pro and config.transport != "rest" else ccxt_async
    cls = getattr(module, config.exchange, None)
    if cls is None:
        raise LiveSourceError(f"unknown ccxt exchange {config.exchange!r}")
    exchange = cls({"enableRateLimit": True, "options": dict(config.options)})
    _merge(exchange.urls, config.urls)
    websocket = module is ccxt_pro and bool(exchange.has.get("watchTrades"))
    return exchange, websocket


def _decimal(value: Any, field: str, *, positive: bool) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{field} is not a number: {value!r}") from None
    if not number.is_finite() or number < 0 or (positive and number == 0):
        raise ValueError(f"{field} must be a finite number {'> 0' if positive else '≥ 0'}: {value!r}")
    return number


def trade_tick(trade: dict[str, Any]) -> TradeTick:
    """A ccxt unified trade as a validated ``TradeTick`` (raises ValueError naming the field)."""
    if trade.get("id") in (None, ""):
        raise ValueError("id is missing")
    if not isinstance(trade.get("timestamp"), int):
        raise ValueError(f"timestamp is not an integer: {trade.get('timestamp')!r}")
    side = trade.get("side")
    return TradeTick(
        trade_id=str(trade["id"]),
        ts_ns=trade["timestamp"] * 1_000_000,
        price=_decimal(trade.get("price"), "price", positive=True),
        amount=_decimal(trade.get("amount"), "amount", positive=False),
        side=side if side in ("buy", "sell") else "buy",
    )


def ohlcv_bar(row: list[Any]) -> Bar:
    """A ccxt OHLCV row [ms, o, h, l, c, v] as a 1m ``Bar`` (trade_count unknown: 0)."""
    o, h, low, c = (
        _decimal(row[i], name, positive=True)
        for i, name in ((1, "open"), (2, "high"), (3, "low"), (4, "close"))
    )
    return Bar(int(row[0]) * 1_000_000, o, h, low, c, _decimal(row[5], "volume", positive=False), 0)


def book_levels(side: list[list[Any]], depth: int) -> list[Level]:
    return [
        (_decimal(level[0], "price", positive=True), _decimal(level[1], "amount", positive=False))
        for level in side[:depth]
    ]


def instruments_from_markets(
    venue: str, markets: dict[str, Any], precision_mode: int | None
) -> list[Instrument]:
    """Every market ccxt loaded that maps to an instrument (the rest are logged and skipped)."""
    instruments = []
    skipped = 0
    for market in markets.values():
        try:
            instruments.append(instrument_from_ccxt(venue, market, precision_mode))
        except (InstrumentError, SymbolError):
            skipped += 1
    if skipped:
        log.info("%s: %d markets not mapped to instruments (unsupported type or symbol)", venue, skipped)
    return instruments


def configured_symbols(config: LiveSourceSettings, markets: dict[str, Any]) -> list[str]:
    """The configured symbols the venue lists (ccxt's unified symbols are our normal form);
    unknown ones are logged and left out."""
    found = [symbol for symbol in config.symbols if symbol in markets]
    for symbol in sorted(set(config.symbols) - set(found)):
        log.error("%s: symbol %s is not listed by the exchange; not watched", config.venue_name, symbol)
    return found
