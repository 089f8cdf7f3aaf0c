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
from typing import Any, Literal, Self

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


F64_COLUMNS = ("strike", "expiry_ns", "bid", "ask", "model_price", "model_volatility")


def _packed(dtype: str, example: str, meaning: str = "") -> Any:
    return Field(
        examples=[example],
        description=f"base64 of a little-endian {dtype} array of ``count`` values{meaning}",
    )


class OptionChainQuotesF64Reply(BaseModel):
    """``option_chain_quotes``' listing and quotes with the numbers as base64 binary columns (as
    ``candles_columns``): index ``i`` of every column is the option ``symbol[i]``, by strike then
    symbol. ``is_call`` is uint8 (1 call, 0 put); ``expiry_ns`` int64 (UTC ns); ``strike``, ``bid``,
    ``ask``, ``model_price``, ``model_volatility`` IEEE-754 float64
    (``numpy.frombuffer(base64.b64decode(s), "<f8")``), **NaN where ``option_chain_quotes`` has
    null**. The floats are the nearest float64 of ``option_chain_quotes``' decimals, figure for
    figure: for numerics (an implied volatility), **not for money** — ``option_chain_quotes`` stays
    the exact-decimal source. About a third of its JSON to write and parse (no decimal strings).

    Example (one call: strike 60000, expiry 2026-12-25 08:00 UTC, bid 4100.5, ask 4180, model
    price 4140.25, model volatility 0.625) — the values shown in each field's example."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    venue: str = Field(examples=["sim"])
    underlying: str = Field(examples=["BTC/USDT"])
    spot: WireDecimal | None = Field(description="the underlying's last trade price (null: no trade yet)")
    spot_ts_ns: int | None
    realised_volatility: float | None = Field(description="as option_chain_quotes' (null: no trade yet)")
    venue_quotes: bool = Field(
        description="the venue has imported quotes of the underlying: venue_option_quotes serves them"
    )
    count: int = Field(ge=0, le=MAX_OPTIONS, examples=[1], description="options in this reply")
    symbol: list[str] = Field(examples=[["BTC/USDT:USDT-261225-60000-C"]])
    is_call: str = _packed("uint8", "AQ==", " (1 call, 0 put)")
    strike: str = _packed("float64", "AAAAAABM7UA=")
    expiry_ns: str = _packed("int64", "AAA5qEZw9Bg=", " (UTC ns)")
    bid: str = _packed("float64", "AAAAAIAEsEA=", "; NaN: no bid (below a tick), no trade yet or expired")
    ask: str = _packed("float64", "AAAAAABUsEA=", "; NaN: no trade of the underlying yet or expired")
    model_price: str = _packed("float64", "AAAAAEAssEA=", "; NaN: no trade yet or expired")
    model_volatility: str = _packed("float64", "AAAAAAAA5D8=", "; the smile's at the strike, NaN as model_price")

    @model_validator(mode="after")
    def _columns_hold_count_values(self) -> Self:
        """``symbol`` holds ``count`` entries; each binary column exactly ``count`` values."""
        if len(self.symbol) != self.count:
            raise ValueError(f"symbol: must hold {self.count} entries, not {len(self.symbol)}")
        if len(self.is_call) != 4 * ((self.count + 2) // 3):
            raise ValueError(f"is_call: must be the base64 of {self.count} 1-byte values")
        want = 4 * ((8 * self.count + 2) // 3)
        for name in F64_COLUMNS:
            if len(getattr(self, name)) != want:
                raise ValueError(f"{name}: must be the base64 of {self.count} 8-byte values")
        return self


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        "market-data",
        "option_chain_quotes",
        OptionChainQuotesRequest,
        OptionChainQuotesReply,
        "Listed options of one expiry with their synthetic quotes, as plain columns.",
    ),
    RequestContract(
        "market-data",
        "option_chain_quotes_f64",
        OptionChainQuotesRequest,
        OptionChainQuotesF64Reply,
        "option_chain_quotes with its numbers as base64 float64/int64/uint8 columns (NaN for null).",
    ),
)
