"""The instrument registry's records (``svc.market-data.instruments``; part of ``contracts.market_data``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.wire import WireDecimal

InstrumentKind = Literal["spot", "perpetual", "future", "option"]


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


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
