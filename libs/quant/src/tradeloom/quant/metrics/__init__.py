"""Performance metrics (conventions: libs/quant/README.md)."""

from tradeloom.quant.metrics.daily import daily_pnl
from tradeloom.quant.metrics.drawdown import drawdown_episodes
from tradeloom.quant.metrics.report import MaxDrawdown, PerformanceReport, compute_metrics
from tradeloom.quant.metrics.returns import (
    alpha_beta,
    annual_return,
    annual_volatility,
    conditional_value_at_risk,
    downside_risk,
    equity_returns,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    value_at_risk,
)
from tradeloom.quant.metrics.trades import risk_of_ruin, trade_statistics

__all__ = [
    "MaxDrawdown",
    "PerformanceReport",
    "alpha_beta",
    "annual_return",
    "annual_volatility",
    "compute_metrics",
    "conditional_value_at_risk",
    "daily_pnl",
    "downside_risk",
    "drawdown_episodes",
    "equity_returns",
    "risk_of_ruin",
    "sharpe_ratio",
    "sortino_ratio",
    "total_return",
    "trade_statistics",
    "value_at_risk",
]
