"""Historical imports (``svc.market-data.imports_*``; part of the market-data contracts).

An import backfills a symbol's 1-minute candles (``kind`` ``candles``, ``fetchOHLCV``) or its
trades (``kind`` ``trades``, ``fetchTrades`` in windows of at most an hour, deduplicated on the
venue's trade id and merged into the candles like live trades) for a time range from a ccxt venue
the service is configured for, page by page, as a job: its cursor is stored with each page, so a
killed service resumes where it stopped, and a candle already stored (built from trades, or by an
earlier import) is never overwritten, so re-running a range changes nothing. Minutes the venue has
no candle for are reported as ``gaps``. Starting one is for admins (the data is shared).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract

VENUE = Field(min_length=1, max_length=32, examples=["binance"], description="a configured ccxt venue")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ImportStart(_Model):
    venue: str = VENUE
    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    kind: Literal["candles", "trades"] = Field(
        default="candles", description="1-minute OHLCV candles, or trades (the candles are built from them)"
    )
    from_ns: int = Field(ge=0, examples=[1_704_067_200_000_000_000], description="inclusive")
    to_ns: int = Field(ge=0, examples=[1_704_153_600_000_000_000], description="exclusive")


class ImportsListRequest(_Model):
    import_id: str | None = Field(default=None, max_length=36, description="just this one")
    venue: str | None = Field(default=None, min_length=1, max_length=32)
    limit: int = Field(default=50, ge=1, le=500, description="the newest this many")


class ImportGap(_Model):
    from_ns: int = Field(description="first minute without a candle at the venue")
    to_ns: int = Field(description="end of the gap (exclusive)")


class ImportJob(_Model):
    import_id: str
    venue: str
    symbol: str
    kind: Literal["candles", "trades"]
    from_ns: int
    to_ns: int
    cursor_ns: int = Field(description="everything before this is imported")
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(ge=0, le=1, description="share of the range imported")
    pages: int
    fetched: int = Field(description="candles (or trades) the venue sent")
    stored: int = Field(description="candles (or trades) newly stored (the rest were already there)")
    retries: int = Field(description="pages retried after a rate limit or network error")
    gaps: list[ImportGap] = Field(
        description="minutes without a candle (candles) or without a trade (trades)"
    )
    error: str | None = None
    created_by: str
    created_at_ns: int
    updated_at_ns: int


class ImportsReply(_Model):
    imports: list[ImportJob] = Field(description="newest first")


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        "market-data",
        "imports_start",
        ImportStart,
        ImportJob,
        "Admin: import a symbol's candles of a time range from a ccxt venue, as a resumable job.",
    ),
    RequestContract(
        "market-data",
        "imports_list",
        ImportsListRequest,
        ImportsReply,
        "Historical imports with their progress, newest first.",
    ),
)
