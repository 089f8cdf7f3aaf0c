"""Portfolio and performance of the money at work (``svc.analytics.*``).

Daily equity per account and per bot is kept by analytics from order-router's fills and
market-data's prices; a strategy's is the sum of its bots'. Equity here is ``capital`` plus the
cumulative net PnL (realised, unrealised at the day's mark, fees paid) in the quote asset; returns
are measured on it. ``capital`` defaults, for an account, to its starting equity implied by
order-router's balances now (valued at the latest marks) less the PnL so far; a bot or a strategy
needs it given. Every op checks the owner from ``tl-user-id``: another user's account, bot or
strategy is ``not_found`` exactly like an unknown one.

Error codes: ``validation_error`` 422 naming the field (``start``/``end`` of a bad range,
``capital``, ``ids``), ``not_found`` 404, ``unauthorized`` 401, ``unavailable`` 503 (order-router or
strategy-runner did not answer an ownership question).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import NonNegative, Positive, Signed

SERVICE = "analytics"
Scope = Literal["account", "bot", "strategy"]
ID = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$", examples=["acc-1"])
MAX_DAYS = 3660  # ten years of daily rows in one reply


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class RangeRequest(_Request):
    """One account, bot or strategy over ``start``..``end`` (UTC days, inclusive; default: all)."""

    scope: Scope = "account"
    id: str = ID
    start: dt.date | None = None
    end: dt.date | None = None
    capital: Positive | None = Field(default=None, description="equity before the first fill")


class EquityPoint(_Reply):
    day: dt.date
    equity: Signed = Field(description="capital + cumulative net PnL at the day's marks")
    pnl: Signed = Field(description="change since the previous day")
    daily_return: float = Field(description="pnl / previous day's equity")
    drawdown: Signed = Field(description="equity − running peak (≤ 0)")
    drawdown_pct: float = Field(description="drawdown / running peak")
    exposure: NonNegative = Field(description="sum of |position value| at the day's marks")
    trades: int = Field(ge=0, description="fills that day")


class EquityCurve(_Reply):
    scope: Scope
    id: str
    capital: Positive
    points: list[EquityPoint] = Field(description="one per UTC day, days without trades included")


class PnlRequest(RangeRequest):
    period: Literal["day", "month"] = "day"


class PnlPeriod(_Reply):
    period: str = Field(examples=["2026-01-05", "2026-01"])
    pnl: Signed
    period_return: float = Field(description="compounded daily returns of the period")
    trades: int = Field(ge=0)


class PnlReply(_Reply):
    scope: Scope
    id: str
    period: Literal["day", "month"]
    items: list[PnlPeriod]


class MetricsReply(_Reply):
    scope: Scope
    id: str
    capital: Positive
    start: dt.date | None
    end: dt.date | None
    days: int
    metrics: dict[str, float | None] = Field(
        description="tradeloom.quant metrics of the daily returns (365 periods a year); null = undefined"
    )


class CompareRequest(_Request):
    """Bots against bots (or strategies against strategies) on the same range and capital."""

    scope: Literal["bot", "strategy"] = "bot"
    ids: list[Annotated[str, ID]] = Field(min_length=2, max_length=10)
    start: dt.date | None = None
    end: dt.date | None = None
    capital: Positive


class CompareReply(_Reply):
    scope: Literal["bot", "strategy"]
    items: list[MetricsReply]


class SummaryRequest(_Request):
    """Every account of the caller that has traded."""


class AccountSummary(_Reply):
    account_id: str
    day: dt.date = Field(description="the newest daily row")
    net_pnl: Signed = Field(description="cumulative net PnL")
    day_pnl: Signed
    exposure: NonNegative
    trades: int = Field(ge=0, description="fills in total")


class PortfolioSummary(_Reply):
    accounts: list[AccountSummary]
    net_pnl: Signed
    day_pnl: Signed
    exposure: NonNegative


class RiskRequest(RangeRequest):
    confidence: float = Field(default=0.95, ge=0.5, le=0.999, description="0.95: the worst 5 % of days")
    simulations: int = Field(default=10_000, ge=100, le=1_000_000, description="Monte Carlo draws")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Monte Carlo seed (same seed, same answer)")
    benchmark: str | None = Field(
        default=None, min_length=3, max_length=64, examples=["BTC/USDT"], description="symbol for beta"
    )


class TailRisk(_Reply):
    historical: float | None
    parametric: float | None = Field(description="normal distribution with the sample mean and std")
    monte_carlo: float | None = Field(description="normal draws with the seed")


class RiskReply(_Reply):
    scope: Scope
    id: str
    days: int
    confidence: float
    volatility: float | None = Field(description="annualised (365 days) sample std of daily returns")
    var: TailRisk = Field(description="daily return at the tail (a loss is negative)")
    cvar: TailRisk = Field(description="mean daily return beyond the VaR")
    var_amount: Signed | None = Field(default=None, description="historical VaR × the last equity")
    benchmark: str | None = None
    beta: float | None = None
    alpha: float | None = Field(default=None, description="annualised CAPM alpha")
    correlation: float | None = None


class ScopeRef(_Request):
    scope: Scope = "account"
    id: str = ID


class PositionSummary(_Reply):
    symbol: str
    quantity: Signed = Field(description="long > 0, short < 0")
    average_entry: NonNegative
    mark: Positive | None = Field(description="the newest price seen (mark, else the last fill)")
    value: Signed = Field(description="quantity × mark")
    unrealised_pnl: Signed
    realised_pnl: Signed
    fees: NonNegative


class PositionsReply(_Reply):
    scope: Scope
    id: str
    items: list[PositionSummary] = Field(description="open positions, by symbol")
    exposure_by_asset: dict[str, Signed] = Field(description="base asset → signed value in the quote asset")
    gross: NonNegative
    net: Signed
    realised_pnl: Signed = Field(description="of every position, open or closed, less fees")


class DistributionRequest(RangeRequest):
    bins: int = Field(default=20, ge=2, le=200, description="histogram bins of the daily returns")


class Bucket(_Reply):
    key: str = Field(description="hour 0-23, weekday 0 (Monday)-6 or symbol")
    fills: int
    notional: NonNegative
    net_pnl: Signed = Field(description="PnL realised by these fills less their fees")


class DistributionReply(_Reply):
    scope: Scope
    id: str
    histogram_edges: list[float] = Field(description="bins + 1 edges of the daily returns")
    histogram_counts: list[int]
    by_hour: list[Bucket]
    by_weekday: list[Bucket]
    by_symbol: list[Bucket]


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq(
        "equity", RangeRequest, EquityCurve, "Daily equity and drawdown curve of an account, bot or strategy."
    ),
    _rq("pnl", PnlRequest, PnlReply, "Daily or monthly PnL and returns."),
    _rq("metrics", RangeRequest, MetricsReply, "Every tradeloom.quant metric over a date range."),
    _rq("risk", RiskRequest, RiskReply, "Volatility, VaR/CVaR (3 methods), beta and correlation."),
    _rq("positions", ScopeRef, PositionsReply, "Open positions and exposure by asset."),
    _rq(
        "distribution",
        DistributionRequest,
        DistributionReply,
        "Returns histogram; fills by hour/weekday/symbol.",
    ),
    _rq("compare", CompareRequest, CompareReply, "Metrics of bots (or strategies) side by side."),
    _rq("summary", SummaryRequest, PortfolioSummary, "PnL and exposure across the caller's accounts."),
)
