"""Candles as columns (``svc.market-data.candles_columns``; part of ``contracts.market_data``).

The ``candles`` op's page as seven base64 strings of little-endian int64/float64 arrays instead of
a list of decimal-string objects: far less work to encode and decode, and 10,000
candles fit in one reply. For numerics only: the ``candles`` op stays the exact-decimal source.
"""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


# The candle requests' timeframe (1M: calendar months; 1w: weeks from Monday 00:00 UTC).
TIMEFRAME: Any = Field(
    default="1m", examples=["1h"], description="1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M"
)


class CandleColumnsRequest(BaseModel):
    """The fields, rules, errors and cursors of ``CandlesRequest`` (a test compares the two
    schemas), with pages of up to 10,000 candles."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    venue: str | None = Field(
        default=None, min_length=1, max_length=32, examples=["sim"], description="default venue if omitted"
    )
    timeframe: str = TIMEFRAME
    from_ns: int | None = Field(default=None, ge=0, examples=[1_704_067_200_000_000_000])
    to_ns: int | None = Field(default=None, ge=0, examples=[1_704_153_600_000_000_000])
    limit: int = Field(default=10_000, ge=1, le=10_000)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


def _column(dtype: str, example: str) -> Any:
    return Field(
        examples=[example], description=f"base64 of a little-endian {dtype} array of ``count`` values"
    )


class CandleColumnsReply(BaseModel):
    """A page of candles as seven columns, for numeric consumers (backtests, indicators).

    Each column is the standard base64 (RFC 4648, padded) of a little-endian array of ``count``
    values in time order: ``open_ns`` and ``trade_count`` int64, ``open``/``high``/``low``/
    ``close``/``volume`` IEEE-754 float64 (``numpy.frombuffer(base64.b64decode(s), "<f8")``).
    Prices and volumes are the nearest float64 of the stored decimals: fine for numerics, **not
    for money** — the ``candles`` op stays the exact-decimal source. A page of 10,000 candles is
    about 750 kB of JSON (the 1 MiB reply limit is why pages stop at 10,000).

    Example (one candle: open_ns 1704067200000000000, open 65000.5, high 65010, low 64990.25,
    close 65001, volume 1.5, trade_count 42) — the values shown in each field's example.
    ``next_cursor`` is the ``candles`` op's: pass it back as ``cursor`` for the next page."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    timeframe: str = Field(examples=["1h"])
    count: int = Field(ge=0, le=10_000, examples=[1], description="candles in this page")
    open_ns: str = _column("int64", "AABlARcQphc=")
    open: str = _column("float64", "AAAAABC970A=")
    high: str = _column("float64", "AAAAAEC+70A=")
    low: str = _column("float64", "AAAAAMi770A=")
    close: str = _column("float64", "AAAAACC970A=")
    volume: str = _column("float64", "AAAAAAAA+D8=")
    trade_count: str = _column("int64", "KgAAAAAAAAA=")
    next_cursor: str | None = Field(default=None, examples=["1704067200000000000"])

    @model_validator(mode="after")
    def _columns_hold_count_values(self) -> Self:
        """Every column is 8 × ``count`` bytes: base64 of that is exactly this many characters."""
        want = 4 * ((8 * self.count + 2) // 3)
        for name in ("open_ns", "open", "high", "low", "close", "volume", "trade_count"):
            if len(getattr(self, name)) != want:
                raise ValueError(f"{name}: must be the base64 of {self.count} 8-byte values")
        return self
