"""Per-source settings: entries of the JSON lists ``TL_MARKET_DATA_REPLAY_SOURCES`` and
``TL_MARKET_DATA_LIVE_SOURCES`` (several sources at once, each for its own venue and symbols)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradeloom.market_data.domain.symbols import normalise_symbol

VENUE_PATTERN = r"^[a-z0-9_\-]{1,32}$"


class ReplaySourceSettings(BaseModel):
    """A CSV/Parquet file of trades or OHLCV bars replayed for one symbol."""

    model_config = ConfigDict(extra="forbid")

    venue: str = Field(default="replay", pattern=VENUE_PATTERN)
    symbol: str
    path: str = Field(min_length=1, description="a .csv or .parquet file")
    kind: Literal["trades", "bars"] = "trades"
    speed: float | None = Field(default=1.0, gt=0, le=1_000_000, description="null = as fast as possible")
    bar_seconds: int | None = Field(default=None, ge=1, description="bar interval; default: detected")
    timezone: str = "UTC"

    @field_validator("symbol")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return normalise_symbol(value)


class LiveSourceSettings(BaseModel):
    """One ccxt exchange: trades (and books) of some symbols, websocket where ccxt.pro has it."""

    model_config = ConfigDict(extra="forbid")

    exchange: str = Field(pattern=r"^[a-z0-9]{2,32}$", description="ccxt exchange id, e.g. binance")
    venue: str | None = Field(default=None, pattern=VENUE_PATTERN, description="default: the exchange id")
    symbols: list[str] = Field(min_length=1)
    transport: Literal["auto", "ws", "rest"] = "auto"
    books: bool = True
    book_levels: int = Field(default=20, ge=1, le=500)
    book_interval_s: float = Field(default=1.0, gt=0, description="REST: order-book polling period")
    book_max_hz: float = Field(
        default=10.0, gt=0, le=1000, description="books published per second per symbol, at most"
    )
    poll_interval_s: float = Field(default=2.0, gt=0, description="REST polling period")
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=60.0, gt=0)
    gap_time_s: float = Field(
        default=60.0, gt=0, description="a silence this long after a reconnect is a gap"
    )
    backfill: bool = True
    options: dict[str, Any] = Field(default_factory=dict, description="ccxt exchange options")
    urls: dict[str, Any] = Field(
        default_factory=dict, description="merged into exchange.urls (proxies, stand-ins)"
    )

    @field_validator("symbols")
    @classmethod
    def _normalise(cls, value: list[str]) -> list[str]:
        return [normalise_symbol(symbol) for symbol in value]

    @property
    def venue_name(self) -> str:
        return self.venue or self.exchange


class OptionChainSettings(BaseModel):
    """A ccxt venue's option chain re-imported periodically (the venue: a ``LIVE_SOURCES`` entry)."""

    model_config = ConfigDict(extra="forbid")

    venue: str = Field(pattern=VENUE_PATTERN)
    underlying: str = Field(description="the spot pair, e.g. BTC/USDT")

    @field_validator("underlying")
    @classmethod
    def _normalise_underlying(cls, value: str) -> str:
        return normalise_symbol(value)


class PerpetualsSettings(BaseModel):
    """A ccxt venue's linear perpetuals whose funding history and mark are imported periodically
    (the venue: a ``LIVE_SOURCES`` entry)."""

    model_config = ConfigDict(extra="forbid")

    venue: str = Field(pattern=VENUE_PATTERN)
    symbols: list[str] = Field(min_length=1, description="perpetuals, e.g. BTC/USDT:USDT")
    history_days: int = Field(default=30, ge=1, le=3660, description="history fetched when none is stored")

    @field_validator("symbols")
    @classmethod
    def _normalise_symbols(cls, value: list[str]) -> list[str]:
        return [normalise_symbol(symbol) for symbol in value]
