"""Result details of backtest-engine (part of ``contracts.backtest``): how a run was annualised, its
daily PnL and its position and exposure series.

Bars per year are inferred from the data (bars per calendar year the run actually spans, years of
365 days) unless the submit names ``periods_per_year``; CAGR is always over calendar years.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.wire import WireDecimal

MAX_PERIODS_PER_YEAR = 31_622_400  # one bar a second in a leap year
ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000000"])
CURSOR = Field(default=None, max_length=64, description="next_cursor of the previous page")
MONEY = Field(examples=["125.5"], allow_inf_nan=False)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Annualisation(_Reply):
    """The convention Sharpe, Sortino, volatility, alpha and CAGR of this run used."""

    periods_per_year: float = Field(gt=0, examples=[252.1], description="bars per year")
    source: Literal["inferred", "request"] = Field(
        description="inferred: bars / calendar years spanned; request: the submit's periods_per_year"
    )
    years: float = Field(gt=0, examples=[8.5], description="calendar years spanned (CAGR's time)")
    year_days: int = Field(examples=[365], description="days in the year `years` counts")
    bar_ns: int = Field(gt=0, description="one bar's duration: the span is first bar to last bar's end")


class DailyPnlRequest(_Request):
    backtest_id: str = ID
    limit: int = Field(default=1000, ge=1, le=5000)
    cursor: str | None = CURSOR


class DailyPnlDay(_Reply):
    day: date = Field(description="UTC calendar day")
    day_ns: int = Field(description="the day's start, UTC ns")
    pnl: WireDecimal = Field(
        examples=["-42.5"], allow_inf_nan=False, description="last equity of the day − previous day's"
    )


class DailyPnl(_Reply):
    """PnL per UTC calendar day with a bar (the first day from the initial cash), oldest first; the
    summary covers every day, whatever the page."""

    backtest_id: str
    days: int = Field(description="days with at least one bar")
    winning_days: int
    losing_days: int
    profitable_days: float | None = Field(default=None, ge=0, le=1, description="winning_days / days")
    largest_winning_day: WireDecimal | None = Field(default=None, examples=["310.2"], allow_inf_nan=False)
    largest_losing_day: WireDecimal | None = Field(default=None, examples=["-250"], allow_inf_nan=False)
    items: list[DailyPnlDay]
    next_cursor: str | None = None


class Series(_Reply):
    t_ns: list[int]
    values: list[float]


class PositionsRequest(_Request):
    backtest_id: str = ID
    max_points: int = Field(default=2000, ge=3, le=2000, description="LTTB downsampling target")


class PositionSeries(_Reply):
    """Per bar, marked at its close: the signed position in units (short < 0), the number of open
    trades (the simulator holds at most one) and the gross exposure ``|position| × close`` in cash.
    Each series is LTTB-downsampled on its own (``open_trades`` at the position's points)."""

    backtest_id: str
    total_points: int
    position: Series
    open_trades: Series
    gross_exposure: Series
