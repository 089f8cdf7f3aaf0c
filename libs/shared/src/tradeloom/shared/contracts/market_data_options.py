"""Synthetic option quotes of the synthetic venue (``svc.market-data.option_quotes``; part of
``contracts.market_data``). These are model quotes, not a market: bid/ask around a
Black-Scholes-Merton price at a volatility smile over the underlying's realised volatility (see
market-data's ``domain/option_quotes.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.wire import WireDecimal


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class OptionQuotesRequest(_Model):
    underlying: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"], description="spot symbol")
    venue: str | None = Field(
        default=None, min_length=1, max_length=32, description="default venue if omitted"
    )
    expiry: dt.date | None = Field(default=None, description="UTC day of the expiry; default: every expiry")
    symbols: list[str] | None = Field(
        default=None, max_length=500, description="only these option symbols (default: all of the underlying)"
    )
    strike_from: WireDecimal | None = Field(default=None, ge=0, examples=["50000"], description="strike >= this")
    strike_to: WireDecimal | None = Field(default=None, ge=0, examples=["70000"], description="strike <= this")


class OptionQuote(_Model):
    symbol: str = Field(examples=["BTC/USDT:USDT-261225-65000-C"])
    option_type: Literal["call", "put"]
    strike: WireDecimal
    expiry: dt.datetime
    bid: WireDecimal | None = Field(description="null: no bid (the model price is below a tick)")
    ask: WireDecimal
    model_price: float
    model_volatility: float = Field(description="the smile's volatility at this strike (annual)")


class OptionQuotesReply(_Model):
    venue: str
    underlying: str
    spot: WireDecimal = Field(description="the underlying's last trade price")
    spot_ts_ns: int
    realised_volatility: float = Field(
        description="annualised, from the last 24 h of 1-minute closes (the simulator's setting if too few)"
    )
    quotes: list[OptionQuote]
