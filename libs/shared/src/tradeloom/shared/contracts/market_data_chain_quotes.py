"""One expiry's listed options *with* their synthetic quotes, as plain columns
(``svc.market-data.option_chain_quotes``; part of the market-data contracts).

What ``instruments`` (kind option, one expiry, a strike range, a limit) and ``option_quotes`` of the
same range give together, from one read of the registry: one list per field, index ``i`` of every
list is the option ``symbol[i]``, ordered by strike then symbol. Made for large chains (analytics'
``options_chain_columns``): 4,000 options without 4,000 nested objects to build, parse and
validate. The quotes are the synthetic venue's model quotes, exactly those of ``option_quotes``;
``venue_quotes`` true means the venue has a ccxt venue's imported quotes of the underlying, which
this op does not carry: ask ``venue_option_quotes`` for them. ``instruments`` and ``option_quotes``
are unchanged.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import WireDecimal

MAX_OPTIONS = 5_000  # 2,500 strikes of calls and puts: ~0.7 MB, under NATS's 1 MB max_payload
COLUMNS = ("symbol", "option_type", "strike", "expiry", "bid", "ask", "model_price", "model_volatility")


class OptionChainQuotesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    underlying: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"], description="spot symbol")
    venue: str | None = Field(
        default=None, min_length=1, max_length=32, examples=["sim"], description="default venue if omitted"
    )
    expiry: dt.date = Field(description="UTC day of the expiry")
    strike_from: WireDecimal | None = Field(default=None, ge=0, examples=["50000"], description="strike >= this")
    strike_to: WireDecimal | None = Field(default=None, ge=0, examples=["70000"], description="strike <= this")
    limit: int = Field(
        default=MAX_OPTIONS, ge=1, le=MAX_OPTIONS, description="at most this many options, by strike then symbol"
    )


class OptionChainQuotesReply(BaseModel):
    """The listing and its quotes; every column holds one entry per listed option."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    venue: str
    underlying: str
    spot: WireDecimal | None = Field(description="the underlying's last trade price (null: no trade yet)")
    spot_ts_ns: int | None
    realised_volatility: float | None = Field(
        description="annualised, from the last 24 h of 1-minute closes (the simulator's setting if too "
        "few); cached per underlying for market-data's option_volatility_cache_s (null: no trade yet)"
    )
    venue_quotes: bool = Field(
        description="the venue has imported quotes of the underlying: venue_option_quotes serves them"
    )
    symbol: list[str] = Field(examples=[["BTC/USDT:USDT-261225-65000-C"]])
    option_type: list[Literal["call", "put"]]
    strike: list[WireDecimal]
    expiry: list[dt.datetime]
    bid: list[WireDecimal | None] = Field(description="null: no bid (below a tick), no trade yet or expired")
    ask: list[WireDecimal | None] = Field(description="null: no trade of the underlying yet or expired")
    model_price: list[float | None]
    model_volatility: list[float | None] = Field(description="the smile's volatility at the strike (annual)")

    @model_validator(mode="after")
    def _same_lengths(self) -> Self:
        lengths = {name: len(getattr(self, name)) for name in COLUMNS}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"every column must hold one entry per option: {lengths}")
        return self


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        "market-data",
        "option_chain_quotes",
        OptionChainQuotesRequest,
        OptionChainQuotesReply,
        "Listed options of one expiry with their synthetic quotes, as plain columns.",
    ),
)
