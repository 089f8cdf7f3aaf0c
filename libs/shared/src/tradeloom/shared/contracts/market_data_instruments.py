"""The instrument registry's records (``svc.market-data.instruments``; part of ``contracts.market_data``)."""

from __future__ import annotations

import datetime as dt
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.wire import WireDecimal

InstrumentKind = Literal["spot", "perpetual", "future", "option"]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


_VENUE = Field(
    default=None, min_length=1, max_length=32, examples=["sim"], description="default venue if omitted"
)
_UNDERLYING = Field(
    default=None,
    min_length=3,
    max_length=64,
    examples=["BTC/USDT"],
    description="options/futures of this spot symbol only (base = the instrument's underlying, "
    "symbol prefixed by it: BTC/USDT:USDT-…)",
)


class InstrumentsRequest(_Request):
    venue: str | None = _VENUE
    kind: InstrumentKind | None = None
    status: Literal["active", "inactive"] | None = None
    underlying: str | None = _UNDERLYING
    expiry: dt.date | None = Field(default=None, description="instruments expiring on this UTC day only")
    strike_from: WireDecimal | None = Field(default=None, ge=0, examples=["50000"], description="strike >= this")
    strike_to: WireDecimal | None = Field(default=None, ge=0, examples=["70000"], description="strike <= this")
    limit: int | None = Field(
        default=None, ge=1, le=20_000, description="at most this many, by strike then symbol (default: all)"
    )


class OptionExpiriesRequest(_Request):
    underlying: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"], description="spot symbol")
    venue: str | None = _VENUE
    status: Literal["active", "inactive"] | None = Field(default="active", description="null: any")


class OptionExpiries(_Reply):
    expiry: datetime
    options: int = Field(ge=0, description="listed options (calls and puts) of this expiry")


class OptionExpiriesReply(_Reply):
    venue: str
    underlying: str
    expiries: list[OptionExpiries] = Field(description="ascending; past expiries included")


class Instrument(_Reply):
    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    kind: InstrumentKind = Field(examples=["spot"])
    base: str = Field(examples=["BTC"])
    quote: str = Field(examples=["USDT"])
    settle: str | None = Field(default=None, examples=["USDT"])
    tick_size: WireDecimal = Field(gt=0, examples=["0.01"])
    lot_size: WireDecimal = Field(gt=0, examples=["0.00001"])
    min_notional: WireDecimal = Field(ge=0, examples=["5"])
    status: Literal["active", "inactive"] = "active"
    expiry: datetime | None = None
    underlying: str | None = Field(default=None, examples=["BTC"])
    strike: WireDecimal | None = Field(default=None, gt=0, examples=["60000"])
    option_type: Literal["call", "put"] | None = None
    multiplier: WireDecimal = Field(default=Decimal(1), gt=0, examples=["1"])
    price_band_pct: WireDecimal | None = Field(
        default=None,
        gt=0,
        lt=100,
        examples=["10"],
        description="limit prices are accepted within last trade price × (1 ± this/100); null: no band",
    )


class InstrumentsReply(_Reply):
    instruments: list[Instrument]
