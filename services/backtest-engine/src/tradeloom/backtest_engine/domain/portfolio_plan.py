"""Portfolio runs (pure): a basket request → one ``RunPlan`` per symbol, and the simulation.

Each member is validated as a single run would be (``plan_run``: the strategy and its parameters,
timeframe, range, source), so the same bad input gets the same 422, with a member's own fields
named ``symbols.<i>.<field>``; the weights by ``tradeloom.quant.portfolio.basket_weights``. The run
itself is ``tradeloom.quant.portfolio.run_portfolio`` on the fetched bars, annualised on the
aligned bar times like a single run (``annualisation.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeloom.backtest_engine.domain.annualisation import Annualisation, annualise
from tradeloom.backtest_engine.domain.run_plan import PlanError, RunPlan, plan_run
from tradeloom.backtest_engine.domain.series import FloatArray
from tradeloom.backtest_engine.domain.simulation import BarArrays
from tradeloom.quant.portfolio import BasketError, PortfolioResult, SymbolBars, basket_weights, run_portfolio
from tradeloom.quant.portfolio.kernel import ENTRY_BAR, ENTRY_PRICE, EXIT_BAR, SYMBOL
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.backtest_portfolio import PortfolioSymbol, SubmitPortfolioBacktest

MEMBER_FIELDS = ("symbol", "venue", "dataset_id")


@dataclass(frozen=True)
class PortfolioPlan:
    strategy: str
    params: dict[str, object]
    labels: list[str]  # a member's symbol, or its dataset id
    legs: list[RunPlan]
    weights: FloatArray
    initial_cash: float
    fee: float
    requested_periods_per_year: float | None
    timeframe: str | None


@dataclass(frozen=True)
class PortfolioOutcome:
    result: PortfolioResult
    annualisation: Annualisation
    mae: FloatArray  # per trade, from the closes it was held over (fraction of entry, ≤ 0)
    mfe: FloatArray


def label_of(member: PortfolioSymbol) -> str:
    return member.dataset_id if member.dataset_id is not None else str(member.symbol)


def _leg(request: SubmitPortfolioBacktest, member: PortfolioSymbol, i: int) -> RunPlan:
    single = SubmitBacktest(
        strategy=request.strategy,
        params=request.params,
        symbol=member.symbol,
        venue=member.venue,
        dataset_id=member.dataset_id,
        timeframe=None if member.dataset_id is not None else request.timeframe,
        start=request.start,
        end=request.end,
        initial_cash=request.initial_cash,
        periods_per_year=request.periods_per_year,
    )
    try:
        return plan_run(single)
    except PlanError as error:
        field = f"symbols.{i}.{error.field}" if error.field in MEMBER_FIELDS else error.field
        raise PlanError(field, error.message) from None


def plan_portfolio(request: SubmitPortfolioBacktest) -> PortfolioPlan:
    """Validate the basket; raises ``PlanError`` naming the field."""
    legs = [_leg(request, member, i) for i, member in enumerate(request.symbols)]
    labels = [label_of(member) for member in request.symbols]
    weights = None if request.weights is None else [float(w) for w in request.weights]
    try:
        w = basket_weights(labels, weights)
    except BasketError as error:
        raise PlanError(error.field, str(error).split(": ", 1)[-1]) from None
    return PortfolioPlan(
        strategy=legs[0].strategy,
        params=dict(legs[0].params),
        labels=labels,
        legs=legs,
        weights=w,
        initial_cash=float(request.initial_cash),
        fee=float(request.fee),
        requested_periods_per_year=request.periods_per_year,
        timeframe=legs[0].timeframe,
    )


def excursions(result: PortfolioResult, close: FloatArray) -> tuple[FloatArray, FloatArray]:
    """(MAE, MFE) of every trade over the closes from its entry to its exit (the last bar if open)."""
    n = result.trades.shape[0]
    mae, mfe = np.zeros(n), np.zeros(n)
    last = close.shape[0] - 1
    for t in range(n):
        row = result.trades[t]
        exit_bar = int(row[EXIT_BAR]) if row[EXIT_BAR] >= 0 else last
        held = close[int(row[ENTRY_BAR]) : exit_bar + 1, int(row[SYMBOL])]
        held = held[np.isfinite(held)]
        entry = row[ENTRY_PRICE]
        if held.size and entry > 0:
            mae[t] = min(held.min() / entry - 1.0, 0.0)
            mfe[t] = max(held.max() / entry - 1.0, 0.0)
    return mae, mfe


def simulate_portfolio_plan(plan: PortfolioPlan, bars: list[BarArrays], bar_ns: int) -> PortfolioOutcome:
    """Run the basket on each member's bars; raises ``PlanError`` for a strategy it cannot run."""
    members = [
        SymbolBars(label, b.time, b.open, b.high, b.low, b.close)
        for label, b in zip(plan.labels, bars, strict=True)
    ]
    union = np.unique(np.concatenate([b.time for b in bars]))
    convention = annualise(union, bar_ns, plan.requested_periods_per_year)
    try:
        result = run_portfolio(
            plan.strategy, plan.params, members, weights=list(plan.weights),
            initial_cash=plan.initial_cash, fee=plan.fee, periods_per_year=convention.periods_per_year,
        )  # fmt: skip
    except BasketError as error:
        raise PlanError(error.field, str(error).split(": ", 1)[-1]) from None
    close = np.full((union.size, len(bars)), np.nan)
    for j, b in enumerate(bars):
        close[np.searchsorted(union, b.time), j] = b.close
    mae, mfe = excursions(result, close)
    return PortfolioOutcome(result, convention, mae, mfe)
