"""A ccxt venue's option chains (``svc.market-data.option_chain_import`` and
``venue_option_quotes``; part of the market-data contracts).

An import loads the venue's option markets of one underlying into the instrument registry and
stores the venue's current quotes of them (bid/ask/last from its tickers; mark price, implied
volatilities and Greeks where the venue publishes them, e.g. Binance's ``/eapi/v1/mark``): the
newest snapshot per option replaces the one before, so re-running an import is harmless. Starting
one is for admins (the data is shared); configured chains are re-imported periodically.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import WireDecimal

VENUE = Field(min_length=1, max_length=32, examples=["binance"], description="a configured ccxt venue")
UNDERLYING = Field(min_length=3, max_length=64, examples=["BTC/USDT"], description="the spot pair")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class OptionChainImport(_Model):
    venue: str = VENUE
    underlying: str = UNDERLYING
    expiry: dt.date | None = Field(default=None, description="UTC day of one expiry; default: every expiry")


class OptionChainImported(_Model):
    venue: str
    underlying: str
    instruments: int = Field(description="option instruments upserted into the registry")
    quotes: int = Field(description="option quotes stored")
    expiries: list[dt.datetime] = Field(description="the expiries imported, soonest first")
    imported_at_ns: int


class VenueOptionQuotesRequest(_Model):
    venue: str = VENUE
    underlying: str = UNDERLYING
    expiry: dt.date | None = Field(default=None, description="UTC day of the expiry; default: every expiry")
    strike_from: WireDecimal | None = Field(default=None, ge=0, examples=["50000"], description="strike >= this")
    strike_to: WireDecimal | None = Field(default=None, ge=0, examples=["70000"], description="strike <= this")


class VenueOptionQuote(_Model):
    symbol: str = Field(examples=["BTC/USDT:USDT-261225-65000-C"])
    option_type: Literal["call", "put"]
    strike: WireDecimal
    expiry: dt.datetime
    bid: WireDecimal | None = Field(description="null: no bid at the venue")
    ask: WireDecimal | None = Field(description="null: no ask at the venue")
    last: WireDecimal | None = Field(description="last trade price (null: none)")
    mark: WireDecimal | None = Field(description="the venue's mark price (null: not published)")
    bid_iv: float | None = Field(description="the venue's implied volatility of the bid (annual)")
    ask_iv: float | None
    mark_iv: float | None
    delta: float | None = Field(description="the venue's Greeks, in its own units (null: not published)")
    gamma: float | None
    theta: float | None
    vega: float | None
    underlying_price: WireDecimal | None = Field(description="the venue's underlying (index) price")
    ts_ns: int = Field(description="when this quote was imported")


class VenueOptionQuotesReply(_Model):
    venue: str
    underlying: str
    underlying_price: WireDecimal | None = Field(description="the newest quote's underlying price")
    imported_at_ns: int = Field(description="the newest quote's import time")
    quotes: list[VenueOptionQuote]


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        "market-data",
        "option_chain_import",
        OptionChainImport,
        OptionChainImported,
        "Import a ccxt venue's option chain of an underlying (admins).",
    ),
    RequestContract(
        "market-data",
        "venue_option_quotes",
        VenueOptionQuotesRequest,
        VenueOptionQuotesReply,
        "The stored option quotes a ccxt venue gave for an underlying.",
    ),
)
