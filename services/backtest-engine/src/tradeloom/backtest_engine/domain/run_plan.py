"""A submitted backtest turned into what the quant simulator takes, or a clear error naming the field.

Pure: no NATS, SQL or HTTP. Money arrives as ``Decimal`` and becomes float64 only here, at the edge
of the numeric kernels. Bars per year come from the fetched bars (``with_bars``,
``domain/annualisation.py``) unless the request names ``periods_per_year``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np

from tradeloom.backtest_engine.domain.annualisation import Annualisation, annualise
from tradeloom.backtest_engine.domain.graph_plan import GRAPH_STRATEGY, compiled_graph, with_graph_settings
from tradeloom.backtest_engine.domain.run_plan_errors import PlanError as PlanError  # noqa: PLC0414 (re-exported)
from tradeloom.backtest_engine.domain.search_space import SearchPlan, plan_search
from tradeloom.backtest_engine.domain.series import IntArray
from tradeloom.quant.fills import CommissionModel, Costs, SizingMode, SlippageModel
from tradeloom.quant.graph import CompiledGraph
from tradeloom.quant.simulator import SimulationConfig
from tradeloom.quant.strategies import BUILTIN_STRATEGIES, InvalidParameters, validate_params
from tradeloom.quant.strategies.schema import ParamValue
from tradeloom.shared.contracts.backtest import BacktestCosts, SubmitBacktest

TIMEFRAME_SECONDS: dict[str, int] = {
    "1m": 60,
    "5m": 300,
    "15m": 900,
    "1h": 3_600,
    "4h": 14_400,
    "1d": 86_400,
    "1w": 604_800,
}
DEFAULT_TIMEFRAME = "1h"
MAX_INITIAL_CASH = 10**15

_COMMISSION = {
    "none": CommissionModel.NONE,
    "fixed": CommissionModel.FIXED,
    "percent": CommissionModel.PERCENT,
    "tiered": CommissionModel.TIERED,
}
_SLIPPAGE = {
    "none": SlippageModel.NONE,
    "fixed": SlippageModel.FIXED,
    "percent": SlippageModel.PERCENT,
    "volume_share": SlippageModel.VOLUME_SHARE,
    "random": SlippageModel.RANDOM,
}
_SIZING = {
    "fixed_quantity": SizingMode.FIXED_QUANTITY,
    "fixed_cash": SizingMode.FIXED_CASH,
    "percent_equity": SizingMode.PERCENT_EQUITY,
    "volatility_target": SizingMode.VOLATILITY_TARGET,
}


CODE_STRATEGY = "code"  # the run's ``strategy`` when it ran a user-code strategy


@dataclass(frozen=True)
class RunPlan:
    """What to fetch (market candles or a dataset, ``None`` bounds: the whole dataset) and run."""

    strategy: str
    params: dict[str, ParamValue]
    start_ns: int | None
    end_ns: int | None
    periods_per_year: float  # NaN until the bars are fetched (``with_bars``)
    config: SimulationConfig
    costs: Costs
    symbol: str | None = None
    venue: str | None = None
    timeframe: str | None = None
    dataset_id: str | None = None
    search: SearchPlan | None = None
    graph: CompiledGraph | None = None  # a builder graph's plan (``strategy`` reads "graph")
    code: str | None = None  # a user-code strategy (``strategy`` reads "code"): signals from the sandbox
    requested_periods_per_year: float | None = None
    annualisation: Annualisation | None = None

    @property
    def kind(self) -> str:
        if self.search is None:
            return "backtest"
        return "walk_forward" if self.search.walk_forward is not None else "search"


def with_bars(plan: RunPlan, time: IntArray, bar_ns: int) -> RunPlan:
    """``plan`` annualised on the fetched bars (stamped ``time``, ``bar_ns`` each)."""
    convention = annualise(time, bar_ns, plan.requested_periods_per_year)
    return replace(plan, periods_per_year=convention.periods_per_year, annualisation=convention)


def to_ns(moment: datetime) -> int:
    """An aware datetime as integer nanoseconds since the epoch (exact, no float rounding)."""
    delta = moment.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _fraction(field: str, value: object, upper: float) -> float:
    if value is None:
        return math.nan
    number = float(str(value))
    if not 0 < number < upper:
        raise PlanError(field, f"must be a fraction of the entry price between 0 and {upper:g}")
    return number


def _costs(costs: BacktestCosts) -> Costs:
    tiers = sorted(costs.tiers, key=lambda tier: tier.from_notional)
    if costs.commission_model == "tiered":
        if not tiers:
            raise PlanError("costs.tiers", "at least one tier is needed for the tiered model")
        if tiers[0].from_notional != 0:
            raise PlanError("costs.tiers", "the first tier must start at from_notional 0")
    if costs.slippage_model in ("percent", "random") and costs.slippage >= 1:
        raise PlanError("costs.slippage", "a fraction of the price below 1")
    thresholds = np.array([float(t.from_notional) for t in tiers] or [0.0])
    maker = np.array([float(t.maker_rate) for t in tiers] or [0.0])
    taker = np.array([float(t.taker_rate) for t in tiers] or [0.0])
    return Costs(
        slippage_model=int(_SLIPPAGE[costs.slippage_model]),
        slippage=float(costs.slippage),
        volume_cap=float(costs.volume_cap),
        commission_model=int(_COMMISSION[costs.commission_model]),
        fixed_fee=float(costs.fixed_fee),
        maker_rate=float(costs.maker_rate),
        taker_rate=float(costs.taker_rate),
        tier_thresholds=thresholds,
        tier_maker_rates=maker,
        tier_taker_rates=taker,
        slippage_seed=costs.slippage_seed,
    )


def _source(request: SubmitBacktest) -> str | None:
    """The timeframe (None for a dataset) after checking that exactly one data source is named."""
    if request.dataset_id is not None:
        for field in ("symbol", "venue", "timeframe"):
            if getattr(request, field) is not None:
                raise PlanError(
                    "dataset_id", f"give either dataset_id or symbol/venue/timeframe, not both ({field})"
                )
        return None
    if request.symbol is None:
        raise PlanError("symbol", "give a symbol (with venue and timeframe) or a dataset_id")
    for field in ("start", "end"):
        if getattr(request, field) is None:
            raise PlanError(field, "required for market candles (optional only with dataset_id)")
    timeframe = request.timeframe or DEFAULT_TIMEFRAME
    if timeframe not in TIMEFRAME_SECONDS:
        raise PlanError("timeframe", f"unknown timeframe: use one of {', '.join(TIMEFRAME_SECONDS)}")
    return timeframe


def _builtin(request: SubmitBacktest) -> tuple[str, dict[str, ParamValue]]:
    """The built-in strategy and its validated parameters."""
    strategy = request.strategy
    if strategy is None:  # a saved strategy is resolved to its template before planning
        raise PlanError("strategy", "give a built-in strategy or the strategy_id of a saved one")
    spec = BUILTIN_STRATEGIES.get(strategy)
    if spec is None:
        known = ", ".join(sorted(BUILTIN_STRATEGIES))
        raise PlanError("strategy", f"unknown built-in strategy {strategy!r}: use one of {known}")
    try:
        return strategy, validate_params(spec, request.params)
    except InvalidParameters as error:
        raise PlanError(f"params.{error.field}", str(error).split(": ", 1)[-1]) from None


def _strategy(request: SubmitBacktest, graph: CompiledGraph | None) -> tuple[str, dict[str, ParamValue]]:
    """The run's strategy name and parameters: a graph's, a user code's or a built-in's."""
    if graph is not None:
        if request.optimise is not None:
            raise PlanError(
                "optimise", "not available for builder graphs (their parameters live in the nodes)"
            )
        return GRAPH_STRATEGY, {}
    if request.code is not None:
        if request.optimise is not None:
            raise PlanError("optimise", "not available for user-code strategies")
        return CODE_STRATEGY, {k: v for k, v in request.params.items() if isinstance(v, ParamValue)}
    return _builtin(request)


def plan_run(request: SubmitBacktest) -> RunPlan:
    """Validate ``request`` against the strategy's schema and the simulator's rules."""
    graph = None if request.graph is None else compiled_graph(request.graph)
    strategy, params = _strategy(request, graph)
    timeframe = _source(request)
    start_ns = None if request.start is None else to_ns(request.start)
    end_ns = None if request.end is None else to_ns(request.end)
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        raise PlanError("end", "must be after start")
    if start_ns is not None and start_ns < 0:
        raise PlanError("start", "must not be before 1970")
    if request.initial_cash > MAX_INITIAL_CASH:
        raise PlanError("initial_cash", f"must be at most {MAX_INITIAL_CASH}")
    sizing = request.sizing
    if sizing.mode == "percent_equity" and sizing.value > sizing.max_leverage:
        raise PlanError("sizing.value", "a fraction of equity above max_leverage cannot be filled")
    config = SimulationConfig(
        initial_cash=float(request.initial_cash),
        fill_on_close=request.fill == "close",
        stop_loss=_fraction("stop_loss", request.stop_loss, 1.0),
        take_profit=_fraction("take_profit", request.take_profit, 10.0),
        trailing_stop=_fraction("trailing_stop", request.trailing_stop, 1.0),
        sizing_mode=int(_SIZING[sizing.mode]),
        sizing_value=float(sizing.value),
        whole_units=sizing.whole_units,
        max_leverage=float(sizing.max_leverage),
        max_entries_per_day=request.max_entries_per_day or 0,
    )
    if graph is not None:
        config = with_graph_settings(request, graph, config)
    search = None
    if request.optimise is not None and request.max_entries_per_day is not None:
        raise PlanError("max_entries_per_day", "not available with optimise (searches run without it)")
    if request.optimise is not None:
        try:
            search = plan_search(strategy, params, request.optimise)
        except InvalidParameters as error:
            raise PlanError(error.field, str(error).split(": ", 1)[-1]) from None
    return RunPlan(
        strategy=strategy,
        params=params,
        start_ns=start_ns,
        end_ns=end_ns,
        periods_per_year=math.nan,
        config=config,
        costs=_costs(request.costs),
        symbol=request.symbol,
        venue=request.venue,
        timeframe=timeframe,
        dataset_id=request.dataset_id,
        search=search,
        graph=graph,
        code=request.code,
        requested_periods_per_year=request.periods_per_year,
    )
