"""Events and requests of backtest-engine (backtest.evt.*, backtest.cmd.*, svc.backtest-engine.*).

A backtest is submitted (``svc.backtest-engine.submit``), answered at once with an id and status
``queued``, and run as the command ``backtest.cmd.run.v1`` on the BACKTEST_COMMANDS work queue
(not listed in ``EVENTS``: the catalog documents ``*.evt.*`` subjects only; its body is
``RunCommand``). Progress and the outcome go to ``backtest.evt.<name>.v1.<backtest_id>`` with the
owner's ``user_id`` in the payload. Money and prices are decimal strings; bar and trade times are
integer nanoseconds (UTC); chart series (equity, drawdown) are plain numbers.

Error codes: ``validation_error`` 422 (``details.fields[].field`` names the field, e.g.
``params.fast``, ``strategy``, ``end``, ``initial_cash``), ``unauthorized`` 401 (no user),
``not_found`` 404 (a backtest that does not exist or belongs to someone else), ``conflict`` 409
(results of an unfinished run, deleting an active run).
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.contracts.backtest_optimise import (
    Heatmap,
    HeatmapRequest,
    OptimisationResults,
    OptimisationRows,
    OptimisationRowsRequest,
    OptimiseSpec,
)
from tradeloom.shared.contracts.backtest_portfolio import PortfolioBreakdown, SubmitPortfolioBacktest
from tradeloom.shared.contracts.backtest_results import (
    MAX_PERIODS_PER_YEAR,
    Annualisation,
    DailyPnl,
    DailyPnlRequest,
    PositionSeries,
    PositionsRequest,
    Series,
)
from tradeloom.shared.contracts.backtest_trades import TradesPage, TradesRequest
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.wire import WireDecimal
from tradeloom.shared.envelope import Event

SERVICE = "backtest-engine"
Status = Literal["queued", "running", "completed", "failed", "cancelled"]
Phase = Literal["queued", "fetching", "simulating", "optimising", "metrics", "storing", "done"]
Kind = Literal["backtest", "search", "walk_forward", "portfolio"]
ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000000"])
MONEY = Field(examples=["10000"], allow_inf_nan=False)
FRACTION = Field(default=None, gt=0, allow_inf_nan=False, examples=["0.05"])
CURSOR = Field(default=None, max_length=64, description="next_cursor of the previous page")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class CommissionTier(_Request):
    from_notional: WireDecimal = Field(ge=0, examples=["0"], description="cumulative traded notional")
    maker_rate: WireDecimal = Field(ge=0, lt=1, examples=["0.0008"])
    taker_rate: WireDecimal = Field(ge=0, lt=1, examples=["0.001"])


class BacktestCosts(_Request):
    """Commission and slippage (the quant fill rules: ``tradeloom.quant.fills``)."""

    commission_model: Literal["none", "fixed", "percent", "tiered"] = "none"
    fixed_fee: WireDecimal = Field(
        default=Decimal(0), ge=0, examples=["1.5"], description="fixed: cash per fill"
    )
    maker_rate: WireDecimal = Field(default=Decimal(0), ge=0, lt=1, examples=["0.0008"])
    taker_rate: WireDecimal = Field(default=Decimal(0), ge=0, lt=1, examples=["0.001"])
    tiers: list[CommissionTier] = Field(default_factory=list, max_length=20, description="tiered only")
    slippage_model: Literal["none", "fixed", "percent", "volume_share", "random"] = "none"
    slippage: WireDecimal = Field(
        default=Decimal(0),
        ge=0,
        examples=["0.0005"],
        description="fixed: price units; percent: fraction; random: the largest fraction (uniform in [0, x))",
    )
    slippage_seed: int = Field(
        default=0, ge=0, le=2**53 - 1, description="random: the seed; the same seed gives the same fills"
    )
    volume_cap: WireDecimal = Field(
        default=Decimal("0.025"), gt=0, le=1, examples=["0.025"], description="volume_share only"
    )


class BacktestSizing(_Request):
    mode: Literal["fixed_quantity", "fixed_cash", "percent_equity", "volatility_target"] = "percent_equity"
    value: WireDecimal = Field(
        default=Decimal(1), gt=0, examples=["1"], description="units, cash, fraction of equity or target vol"
    )
    whole_units: bool = False
    max_leverage: WireDecimal = Field(default=Decimal(1), gt=0, le=100, examples=["1"])


class SubmitBacktest(_Request):
    """`svc.backtest-engine.submit` (`POST /v1/backtests`): market candles (``symbol``, ``venue``,
    ``timeframe``, ``start``, ``end``) or an uploaded ``dataset_id`` (optionally cut to ``start``/``end``),
    exactly one of the two; with ``optimise``, a grid/random search or walk-forward instead of one run.
    The strategy is a built-in (``strategy`` + ``params``) or one of the caller's saved strategies
    (``strategy_id``, optionally ``strategy_version``, default the latest: its template and
    parameters are resolved from strategy-runner when the backtest is submitted), or a builder
    ``graph`` (a saved graph strategy's version is resolved into it), exactly one. A saved
    user-code strategy's source is resolved into ``code``."""

    strategy: str | None = Field(
        default=None, min_length=1, max_length=64, examples=["sma_cross"], description="a built-in"
    )
    params: dict[str, Any] = Field(
        default_factory=dict,
        max_length=32,
        examples=[{"fast": 10, "slow": 20}],
        description="numbers or booleans, checked against the strategy's parameter schema",
    )
    strategy_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="a saved strategy (instead of `strategy`)"
    )
    strategy_version: int | None = Field(
        default=None, ge=1, le=1_000_000, description="with strategy_id; default the latest"
    )
    graph: StrategyGraph | None = Field(
        default=None, description="a builder graph (instead of `strategy`); the run's strategy reads `graph`"
    )
    code: str | None = Field(
        default=None,
        max_length=65_536,
        description="set at submit from a saved user-code strategy (strategy_id), never by the caller; "
        "its signals are computed in sandbox-executor and the run's strategy reads `code`",
    )
    symbol: str | None = Field(default=None, min_length=3, max_length=64, examples=["BTC/USDT"])
    venue: str | None = Field(default=None, min_length=1, max_length=32, examples=["sim"])
    timeframe: str | None = Field(default=None, max_length=8, examples=["1h"], description="default 1h")
    dataset_id: str | None = Field(
        default=None, min_length=1, max_length=64, description="market-data dataset"
    )
    start: AwareDatetime | None = Field(default=None, examples=["2024-01-01T00:00:00Z"])
    end: AwareDatetime | None = Field(default=None, examples=["2024-03-01T00:00:00Z"])
    initial_cash: WireDecimal = Field(default=Decimal(10_000), gt=0, examples=["10000"], allow_inf_nan=False)
    costs: BacktestCosts = Field(default_factory=BacktestCosts)
    sizing: BacktestSizing = Field(default_factory=BacktestSizing)
    fill: Literal["next_open", "close"] = "next_open"
    stop_loss: WireDecimal | None = FRACTION
    take_profit: WireDecimal | None = FRACTION
    trailing_stop: WireDecimal | None = FRACTION
    name: str | None = Field(default=None, max_length=100)
    optimise: OptimiseSpec | None = None
    max_entries_per_day: int | None = Field(
        default=None, ge=1, le=10_000, description="entries filled per UTC day at most (not with optimise)"
    )
    periods_per_year: float | None = Field(
        default=None, gt=0, le=MAX_PERIODS_PER_YEAR, allow_inf_nan=False, examples=[252],
        description="bars per year for annualising; default: inferred from the bars (per calendar year)",
    )  # fmt: skip


class BacktestAccepted(_Reply):
    backtest_id: str
    status: Literal["queued"]


class BacktestRef(_Request):
    backtest_id: str = ID


class BacktestSummary(_Reply):
    backtest_id: str
    name: str | None = None
    status: Status
    phase: Phase
    percent: float = Field(ge=0, le=100)
    kind: Kind = "backtest"
    strategy: str
    params: dict[str, int | float | bool]
    strategy_id: str | None = Field(default=None, description="the saved strategy it ran, if any")
    strategy_version: int | None = None
    symbol: str | None = None
    venue: str | None = None
    timeframe: str | None = None
    dataset_id: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error_code: str | None = None
    error: str | None = None


class ListBacktests(_Request):
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = CURSOR
    status: Status | None = None
    strategy: str | None = Field(default=None, max_length=64)
    symbol: str | None = Field(default=None, max_length=64)
    kind: Kind | None = None
    strategy_id: str | None = Field(default=None, min_length=1, max_length=64, description="a saved strategy")


class BacktestList(_Reply):
    items: list[BacktestSummary] = Field(description="newest first")
    next_cursor: str | None = None
    total: int | None = Field(default=None, ge=0, description="runs matching the filters, on every page")


class BacktestDeleted(_Reply):
    backtest_id: str
    deleted: bool


class MaxDrawdownInfo(_Reply):
    depth: float = Field(le=0, examples=[-0.12])
    start_ns: int | None = None
    trough_ns: int | None = None
    end_ns: int | None = Field(default=None, description="null: not recovered")
    duration_bars: int
    recovery_bars: int = Field(description="-1: not recovered")


class BacktestResults(_Reply):
    backtest_id: str
    bar_count: int
    trade_count: int = Field(
        description="every trade record, the one still open at the end of the data included "
        "(metrics.trades counts closed trades only)"
    )
    initial_cash: WireDecimal = MONEY
    final_equity: WireDecimal = MONEY
    metrics: dict[str, float | None] = Field(description="null where undefined (e.g. no trades)")
    max_drawdown: MaxDrawdownInfo | None = None
    annualisation: Annualisation | None = Field(default=None, description="null for runs stored before it")
    counters: dict[str, int] | None = Field(
        default=None, description="named diagnostics: the strategy's own events (e.g. opening_range_breaks_up) "
        "and the simulator's (entries, daily_limit_hits); null for runs stored before them",
    )  # fmt: skip
    open_trades: int | None = Field(
        default=None, ge=0, le=1, description="trades open at the end (exit_reason end_of_data, marked at "
        "the last close): trade_count − open_trades = metrics.trades; a portfolio's are in `portfolio`",
    )  # fmt: skip
    portfolio: PortfolioBreakdown | None = Field(
        default=None, description="a portfolio run's per-symbol results"
    )


class EquityRequest(_Request):
    backtest_id: str = ID
    max_points: int = Field(default=2000, ge=3, le=2000, description="LTTB downsampling target")


class EquityCurves(_Reply):
    backtest_id: str
    total_points: int
    equity: Series
    drawdown: Series = Field(description="fraction below the running peak (<= 0)")


ExportKind = Literal["equity", "trades", "daily_pnl"]


class ExportRequest(_Request):
    backtest_id: str = ID
    kind: ExportKind = "equity"


class ExportReady(_Reply):
    """Where the CSV is: a JetStream object-store object (the gateway streams it)."""

    backtest_id: str
    kind: ExportKind
    bucket: str
    object_name: str
    size_bytes: int
    rows: int
    content_type: Literal["text/csv"] = "text/csv"


class CompareRequest(_Request):
    backtest_ids: list[str] = Field(min_length=1, max_length=10)


class CompareItem(_Reply):
    summary: BacktestSummary
    metrics: dict[str, float | None] | None = Field(default=None, description="null until completed")


class Comparison(_Reply):
    items: list[CompareItem]
    metric_names: list[str] = Field(description="union of the items' metric names, sorted")


# ------------------------------------------------------------------------------------- events
class _BacktestEvent(Event):
    domain: ClassVar[str] = "backtest"
    major: ClassVar[int] = 1

    backtest_id: str
    user_id: str


class RunCommand(_BacktestEvent):
    """A job on the BACKTEST_COMMANDS work queue (`backtest.cmd.run.v1`)."""

    name: ClassVar[str] = "run"
    request: SubmitBacktest


class RunChunkCommand(_BacktestEvent):
    """One chunk of a distributed search or walk-forward (`backtest.cmd.chunk.v1`, envelope id
    `<backtest_id>.chunk.<seq>`): whichever replica takes it evaluates the chunk's parameter sets."""

    name: ClassVar[str] = "chunk"
    seq: int = Field(ge=0)


class BacktestProgress(_BacktestEvent):
    """`backtest.evt.progress.v1.<backtest_id>`: a run moved to a phase."""

    name: ClassVar[str] = "progress"
    phase: Phase
    percent: float = Field(ge=0, le=100)
    at: datetime


class BacktestCompleted(_BacktestEvent):
    """`backtest.evt.completed.v1.<backtest_id>`: results are stored."""

    name: ClassVar[str] = "completed"
    bar_count: int
    trade_count: int
    final_equity: WireDecimal = MONEY
    total_return: float | None = None
    sharpe: float | None = None
    max_drawdown: float | None = Field(default=None, le=0, examples=[-0.12])
    finished_at: datetime


class BacktestFailed(_BacktestEvent):
    """`backtest.evt.failed.v1.<backtest_id>`: the run could not complete; `error` says why."""

    name: ClassVar[str] = "failed"
    error_code: str = Field(examples=["no_data"])
    error: str
    finished_at: datetime


class BacktestCancelled(_BacktestEvent):
    """`backtest.evt.cancelled.v1.<backtest_id>`: the owner cancelled the run."""

    name: ClassVar[str] = "cancelled"
    finished_at: datetime


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


def _ev(model: type[Event], description: str) -> EventContract:
    return EventContract(model, "BACKTEST_EVENTS", ("backtest_id",), description)


EVENTS: tuple[EventContract, ...] = (
    _ev(BacktestProgress, "A backtest moved to a phase (percent done)."),
    _ev(BacktestCompleted, "A backtest completed; results are stored."),
    _ev(BacktestFailed, "A backtest failed with a clear error."),
    _ev(BacktestCancelled, "A backtest was cancelled by its owner."),
)
REQUESTS: tuple[RequestContract, ...] = (
    _rq("submit", SubmitBacktest, BacktestAccepted, "Validate and queue a backtest (202 with its id)."),
    _rq("submit_portfolio", SubmitPortfolioBacktest, BacktestAccepted, "Queue a basket backtest (one cash)."),
    _rq("status", BacktestRef, BacktestSummary, "One of the caller's backtests."),
    _rq("list", ListBacktests, BacktestList, "The caller's backtests, newest first, filtered, paginated."),
    _rq("cancel", BacktestRef, BacktestSummary, "Cancel a queued or running backtest."),
    _rq("delete", BacktestRef, BacktestDeleted, "Delete a finished backtest and its results."),
    _rq("results", BacktestRef, BacktestResults, "Metrics of a completed backtest."),
    _rq("trades", TradesRequest, TradesPage, "Trade records, paginated."),
    _rq("equity", EquityRequest, EquityCurves, "Equity and drawdown, LTTB-downsampled for charts."),
    _rq("positions", PositionsRequest, PositionSeries, "Position, open trades and gross exposure per bar."),
    _rq("daily_pnl", DailyPnlRequest, DailyPnl, "PnL per UTC day, % profitable days, best and worst day."),
    _rq("export", ExportRequest, ExportReady, "Full series as CSV in the JetStream object store."),
    _rq("compare", CompareRequest, Comparison, "Several backtests side by side."),
    _rq("optimisation", BacktestRef, OptimisationResults, "Best parameters or walk-forward folds."),
    _rq("optimisation_rows", OptimisationRowsRequest, OptimisationRows, "A search's table, paginated."),
    _rq("optimisation_heatmap", HeatmapRequest, Heatmap, "A metric over two parameters of a search."),
)


def metric_or_none(value: Any) -> float | None:
    """A metric as JSON allows it: NaN and infinity become null."""
    number = float(value)
    return number if math.isfinite(number) else None
