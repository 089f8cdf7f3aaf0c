"""Portfolio backtests (part of ``contracts.backtest``): one strategy over a basket, one cash balance.

``svc.backtest-engine.submit_portfolio`` (`POST /v1/backtests/portfolio`) names 1–20 symbols, each
market candles (``symbol`` + ``venue?``, the request's ``timeframe``/``start``/``end``) or an
uploaded ``dataset_id``; a built-in strategy with its ``params`` applied to each; ``weights``
(one per symbol, each > 0, summing to at most 1; equal when omitted: the value each entry buys is
weight × initial cash, as vectorbt's grouped portfolio with cash sharing). It runs as a backtest
job (``kind`` ``portfolio``, the command ``backtest.cmd.portfolio.v1``), so status, progress,
cancel, list, delete, ``results`` (portfolio metrics, and per symbol in ``portfolio``), ``trades``
(each with its ``symbol``), ``equity`` and ``daily_pnl`` work as for single runs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.backtest_results import MAX_PERIODS_PER_YEAR
from tradeloom.shared.contracts.wire import WireDecimal
from tradeloom.shared.envelope import Event

MAX_SYMBOLS = 20


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class PortfolioSymbol(_Request):
    """One member of the basket: market candles (``symbol``, ``venue?``) or a ``dataset_id``."""

    symbol: str | None = Field(default=None, min_length=3, max_length=64, examples=["BTC/USDT"])
    venue: str | None = Field(default=None, min_length=1, max_length=32, examples=["sim"])
    dataset_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="an upload of yours"
    )


class SubmitPortfolioBacktest(_Request):
    strategy: str = Field(min_length=1, max_length=64, examples=["sma_cross"], description="a built-in")
    params: dict[str, Any] = Field(
        default_factory=dict, max_length=32, examples=[{"fast": 10, "slow": 20}],
        description="numbers or booleans, checked against the strategy's parameter schema; the same for every symbol",
    )  # fmt: skip
    symbols: list[PortfolioSymbol] = Field(min_length=1, max_length=MAX_SYMBOLS)
    weights: list[WireDecimal] | None = Field(
        default=None, max_length=MAX_SYMBOLS, examples=[["0.5", "0.3", "0.2"]],
        description="one per symbol, each > 0, summing to at most 1; default equal weights",
    )  # fmt: skip
    timeframe: str | None = Field(default=None, max_length=8, examples=["1h"], description="default 1h")
    start: AwareDatetime | None = Field(default=None, examples=["2024-01-01T00:00:00Z"])
    end: AwareDatetime | None = Field(default=None, examples=["2024-03-01T00:00:00Z"])
    initial_cash: WireDecimal = Field(default=Decimal(10_000), gt=0, examples=["10000"], allow_inf_nan=False)
    fee: WireDecimal = Field(
        default=Decimal(0), ge=0, lt=1, examples=["0.001"], description="fraction of every fill's value"
    )
    periods_per_year: float | None = Field(
        default=None, gt=0, le=MAX_PERIODS_PER_YEAR, allow_inf_nan=False,
        description="bars per year for annualising; default: inferred from the aligned bars",
    )  # fmt: skip
    name: str | None = Field(default=None, max_length=100)


class PortfolioSymbolResult(_Reply):
    symbol: str = Field(description="the symbol, or the dataset id for a dataset member")
    weight: float = Field(gt=0, le=1)
    allocation: WireDecimal = Field(examples=["3333.33"], description="value each entry buys")
    metrics: dict[str, float | None] = Field(
        description="pnl, return_on_allocation, open_trades and trade statistics; null where undefined"
    )


class PortfolioBreakdown(_Reply):
    """Per-symbol results of a portfolio run (``results.portfolio``); ``metrics`` are the portfolio's."""

    symbols: list[PortfolioSymbolResult]
    open_trades: int = Field(ge=0, description="trades open at the end, marked at the last close")


class PortfolioRunCommand(Event):
    """A portfolio job on the BACKTEST_COMMANDS work queue (`backtest.cmd.portfolio.v1`)."""

    domain: ClassVar[str] = "backtest"
    major: ClassVar[int] = 1
    name: ClassVar[str] = "portfolio"
    backtest_id: str
    user_id: str
    request: SubmitPortfolioBacktest
