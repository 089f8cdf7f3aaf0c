"""Funding rates and mark prices of perpetual instruments (``svc.market-data.funding_rates`` and
``mark_price``; part of ``contracts.market_data``).

A linear perpetual exchanges funding every ``funding_interval_s`` at fixed times (00:00, 08:00 and
16:00 UTC on the synthetic venue): a long pays ``position notional at the mark × rate`` to the
shorts when the rate is positive, and receives it when negative.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.wire import WireDecimal

SYMBOL = Field(min_length=3, max_length=64, examples=["BTC/USDT:USDT"])
VENUE = Field(default=None, min_length=1, max_length=32, examples=["sim"], description="default venue if omitted")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FundingRatesRequest(_Model):
    symbol: str = SYMBOL
    venue: str | None = VENUE
    from_ns: int | None = Field(default=None, ge=0, description="funding times at or after this")
    to_ns: int | None = Field(default=None, ge=0, description="funding times before this")
    limit: int = Field(default=500, ge=1, le=1000, description="the newest this many")


class FundingRate(_Model):
    funding_time_ns: int = Field(examples=[1_704_153_600_000_000_000])
    rate: WireDecimal = Field(examples=["0.0001"], description="fraction of the notional, per interval")
    mark_price: WireDecimal = Field(examples=["65000.5"], description="the mark price at the funding time")


class FundingRatesReply(_Model):
    venue: str
    symbol: str
    funding_interval_s: int = Field(examples=[28_800])
    items: list[FundingRate] = Field(description="oldest first")


class MarkPriceRequest(_Model):
    symbol: str = SYMBOL
    venue: str | None = VENUE


class MarkPriceReply(_Model):
    venue: str
    symbol: str
    mark_price: WireDecimal = Field(examples=["65000.5"])
    ts_ns: int = Field(description="when the mark was taken")
    last_funding_rate: WireDecimal | None = Field(default=None, description="null before the first funding")
    next_funding_time_ns: int
    funding_interval_s: int = Field(examples=[28_800])
