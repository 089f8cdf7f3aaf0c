"""Trades by time range (``svc.market-data.trades_range``; part of the market-data contracts).

The ``trades`` op answers the newest trades only; this one walks any stored range oldest first,
in pages, by ``(ts_ns, trade_id)``: a page's ``next_cursor`` passed back as ``cursor`` gives the
trades strictly after the page's last one, so paging never skips or repeats a trade even when
many share a timestamp.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.contracts.spec import RequestContract


class TradesRangeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    venue: str | None = Field(
        default=None, min_length=1, max_length=32, examples=["sim"], description="default venue if omitted"
    )
    from_ns: int | None = Field(
        default=None, ge=0, examples=[1_704_067_200_000_000_000], description="inclusive; none: the first"
    )
    to_ns: int | None = Field(
        default=None, ge=0, examples=[1_704_153_600_000_000_000], description="inclusive; none: the last"
    )
    limit: int = Field(default=1000, ge=1, le=5000)
    cursor: str | None = Field(default=None, max_length=160, description="next_cursor of the previous page")


class TradesRangeReply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    trades: list[TradeTick] = Field(description="oldest first, by (ts_ns, trade_id)")
    next_cursor: str | None = Field(default=None, examples=["1704067200000000000:123456789"])


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        "market-data",
        "trades_range",
        TradesRangeRequest,
        TradesRangeReply,
        "Stored trades of a time range, oldest first, paginated by cursor.",
    ),
)
