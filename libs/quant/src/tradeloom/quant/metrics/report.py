"""All performance metrics of one simulated run in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.metrics.daily import daily_pnl
from tradeloom.quant.metrics.drawdown import drawdown_episodes
from tradeloom.quant.metrics.returns import (
    alpha_beta,
    annual_return,
    annual_volatility,
    conditional_value_at_risk,
    equity_returns,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    value_at_risk,
)
from tradeloom.quant.metrics.trades import risk_of_ruin, trade_statistics
from tradeloom.quant.simulator.api import SimulationResult
from tradeloom.quant.types import FloatArray, IntArray


@dataclass(frozen=True)
class MaxDrawdown:
    """The deepest drawdown episode; indices are bars (start −1: the initial capital), end −1: open."""

    depth: float
    start: int
    trough: int
    end: int
    duration_bars: int  # start to recovery (or to the last bar when not recovered)
    recovery_bars: int  # trough to recovery; −1 when not recovered


@dataclass(frozen=True)
class PerformanceReport:
    metrics: dict[str, float]
    max_drawdown: MaxDrawdown | None
    daily_time: IntArray | None
    daily_pnl: FloatArray | None


def _max_drawdown(equity: FloatArray, initial: float) -> tuple[MaxDrawdown | None, dict[str, float]]:
    starts, troughs, ends, depths = drawdown_episodes(equity, initial)
    peak = np.maximum.accumulate(np.concatenate([[initial], equity]))[1:]
    amount = float((peak - equity).max()) if equity.size else 0.0
    if depths.size == 0:
        return None, {"max_drawdown": 0.0, "max_drawdown_amount": 0.0, "avg_drawdown": 0.0}
    k = int(np.argmin(depths))
    end = int(ends[k])
    last = end if end >= 0 else equity.size - 1
    worst = MaxDrawdown(float(depths[k]), int(starts[k]), int(troughs[k]), end, last - int(starts[k]),
                        end - int(troughs[k]) if end >= 0 else -1)  # fmt: skip
    return worst, {
        "max_drawdown": float(depths[k]),
        "max_drawdown_amount": amount,
        "avg_drawdown": float(depths.mean()),
    }


def compute_metrics(
    result: SimulationResult,
    close: FloatArray,
    initial_cash: float,
    *,
    periods_per_year: float = 252.0,
    risk_free: float = 0.0,
    benchmark: FloatArray | None = None,
    time: IntArray | None = None,
    ruin_fraction: float = 0.5,
    years: float | None = None,
) -> PerformanceReport:
    """Metrics of ``result`` (conventions in libs/quant/README.md). ``benchmark`` is a price series
    aligned with the bars (default: the traded instrument); ``time`` (UTC ns) enables daily figures;
    ``years`` (calendar time the run spans) makes CAGR calendar-based instead of bars / periods_per_year."""
    equity = result.equity
    returns = equity_returns(equity, initial_cash)
    closed = result.trades.closed()
    bench_prices = close if benchmark is None else benchmark
    bench_returns = (
        np.concatenate([[0.0], bench_prices[1:] / bench_prices[:-1] - 1.0]) if close.size else close
    )
    alpha, beta = alpha_beta(returns, bench_returns, periods_per_year, risk_free)
    cagr = annual_return(returns, periods_per_year, years)
    worst, drawdown = _max_drawdown(equity, initial_cash)
    metrics: dict[str, float] = {
        "total_return": total_return(equity, initial_cash),
        "final_equity": float(equity[-1]) if equity.size else initial_cash,
        "cagr": cagr,
        "annual_volatility": annual_volatility(returns, periods_per_year),
        "sharpe": sharpe_ratio(returns, periods_per_year, risk_free),
        "sortino": sortino_ratio(returns, periods_per_year, risk_free),
        **drawdown,
        "calmar": cagr / -drawdown["max_drawdown"] if drawdown["max_drawdown"] < 0 else math.nan,
        "max_drawdown_duration_bars": float(worst.duration_bars) if worst else 0.0,
        "time_to_recovery_bars": float(worst.recovery_bars) if worst else 0.0,
        "exposure": float(np.mean(result.position != 0.0)) if equity.size else 0.0,
        "var_95": value_at_risk(returns, 0.05),
        "cvar_95": conditional_value_at_risk(returns, 0.05),
        "buy_and_hold_return": float(close[-1] / close[0] - 1.0) if close.size else math.nan,
        "alpha": alpha,
        "beta": beta,
        **trade_statistics(closed.pnl, closed.returns),
        "risk_of_ruin": risk_of_ruin(closed.pnl, ruin_fraction * initial_cash),
    }
    days, pnl = (None, None) if time is None else daily_pnl(equity, time, initial_cash)
    if pnl is not None and pnl.size:
        metrics["profitable_days"] = float(np.mean(pnl > 0))
        metrics["largest_winning_day"] = float(pnl.max())
        metrics["largest_losing_day"] = float(pnl.min())
    return PerformanceReport(metrics, worst, days, pnl)
