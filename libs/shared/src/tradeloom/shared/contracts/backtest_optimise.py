"""Optimisation requests and replies of backtest-engine (part of ``contracts.backtest``).

A submit with an ``optimise`` block runs a grid or random search over a parameter space (validated
against the strategy's schema, bounded in size) or a walk-forward analysis, as a job with the same
progress, cancel and status machinery as a single backtest. Metrics are ``tradeloom.quant.optimise``'s
summary columns.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_COMBINATIONS = 10_000  # parameter sets per search (grid product or random draws)
MAX_VALUES_PER_PARAM = 1_000  # explicit values or grid points of one parameter
ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000000"])
CURSOR = Field(default=None, max_length=64, description="next_cursor of the previous page")
MetricName = Literal[
    "total_return", "cagr", "sharpe", "sortino", "max_drawdown", "calmar", "trades", "win_rate",
    "profit_factor", "exposure",
]  # fmt: skip


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ParamRange(_Request):
    """One parameter's search space: explicit ``values``, or ``min``..``max`` (grid: with ``step``)."""

    values: list[int | float | bool] | None = Field(
        default=None, min_length=1, max_length=MAX_VALUES_PER_PARAM
    )
    min: float | None = Field(default=None, allow_inf_nan=False, examples=[5])
    max: float | None = Field(default=None, allow_inf_nan=False, examples=[50])
    step: float | None = Field(default=None, gt=0, allow_inf_nan=False, examples=[5])


class WalkForwardSpec(_Request):
    """Rolling (or ``anchored``) in-sample optimisation, each window traded out of sample."""

    in_sample_bars: int = Field(ge=2, le=10_000_000, examples=[2000])
    out_of_sample_bars: int = Field(ge=1, le=10_000_000, examples=[500])
    anchored: bool = False


class OptimiseSpec(_Request):
    """Turns a submit into an optimisation: ``params`` are the fixed values, ``space`` varies some."""

    method: Literal["grid", "random"] = "grid"
    space: dict[str, ParamRange] = Field(
        min_length=1, max_length=8, examples=[{"fast": {"min": 5, "max": 50, "step": 5}}]
    )
    count: int | None = Field(default=None, ge=1, le=MAX_COMBINATIONS, description="random: number of draws")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="random: draws are reproducible")
    metric: MetricName = "sharpe"
    maximize: bool = True
    walk_forward: WalkForwardSpec | None = None


class WalkForwardFold(_Reply):
    in_sample: list[int] = Field(
        min_length=2,
        max_length=2,
        examples=[[0, 2000]],
        description="bar range [start, end) of the fetched series",
    )
    out_of_sample: list[int] = Field(min_length=2, max_length=2, examples=[[2000, 2500]])
    in_sample_start_ns: int
    out_of_sample_start_ns: int
    out_of_sample_end_ns: int = Field(description="the window's last bar")
    params: dict[str, int | float | bool] = Field(description="the in-sample winner")
    in_sample_value: float | None
    out_of_sample_metrics: dict[str, float | None]


class OptimisationResults(_Reply):
    """The outcome of a search (``best_*`` over every row) or a walk-forward (``folds``; its stitched
    out-of-sample equity is served by ``equity``/``export`` and its metrics by ``results``)."""

    backtest_id: str
    kind: Literal["search", "walk_forward"]
    strategy: str
    method: Literal["grid", "random"]
    metric: MetricName
    maximize: bool
    evaluated: int = Field(description="parameter sets run (per fold for walk-forward)")
    skipped: int = Field(description="combinations the strategy's rules refused (e.g. fast >= slow)")
    best_params: dict[str, int | float | bool] | None = Field(default=None, description="search only")
    best_value: float | None = None
    folds: list[WalkForwardFold] = Field(default_factory=list, description="walk-forward only")


class OptimisationRowsRequest(_Request):
    backtest_id: str = ID
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: str | None = CURSOR
    sort_by: MetricName | None = Field(default=None, description="null: evaluation order")
    descending: bool = True


class OptimisationRow(_Reply):
    row: int = Field(description="evaluation order")
    params: dict[str, int | float | bool]
    metrics: dict[str, float | None]


class OptimisationRows(_Reply):
    total: int
    items: list[OptimisationRow]
    next_cursor: str | None = None


class HeatmapRequest(_Request):
    backtest_id: str = ID
    x: str = Field(min_length=1, max_length=64, examples=["fast"])
    y: str = Field(min_length=1, max_length=64, examples=["slow"])
    metric: MetricName | None = Field(default=None, description="default: the optimised metric")


class Heatmap(_Reply):
    backtest_id: str
    x: str
    y: str
    metric: MetricName
    x_values: list[float]
    y_values: list[float]
    values: list[list[float | None]] = Field(description="values[y][x], best over the other parameters")
