"""Statistics of closed trades (net PnL and return per trade)."""

from __future__ import annotations

import math

import numpy as np

from tradeloom.quant.types import FloatArray


def longest_streak(flags: np.ndarray) -> int:
    """Length of the longest run of True."""
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def trade_statistics(pnl: FloatArray, returns: FloatArray) -> dict[str, float]:
    """Count, win rate, best/worst/average trade return, average win and loss (cash), profit factor,
    expectancy (mean PnL), SQN (√n · mean / std of PnL), Kelly (W − (1 − W) / (avg win / avg loss)),
    longest winning and losing streaks. A trade with PnL exactly 0 is neither a win nor a loss."""
    n = int(pnl.size)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    gross_win, gross_loss = float(wins.sum()), float(-losses.sum())
    win_rate = wins.size / n if n else math.nan
    avg_win = float(wins.mean()) if wins.size else math.nan
    avg_loss = float(losses.mean()) if losses.size else math.nan
    std = float(np.std(pnl, ddof=1)) if n > 1 else math.nan
    payoff = avg_win / -avg_loss if wins.size and losses.size else math.nan
    kelly = win_rate - (1 - win_rate) / payoff if wins.size and losses.size else math.nan
    return {
        "trades": float(n),
        "win_rate": win_rate,
        "best_trade": float(returns.max()) if n else math.nan,
        "worst_trade": float(returns.min()) if n else math.nan,
        "avg_trade": float(returns.mean()) if n else math.nan,
        "avg_win": avg_win,
        "avg_loss": avg_loss,
        "profit_factor": gross_win / gross_loss
        if gross_loss > 0
        else (math.inf if gross_win > 0 else math.nan),
        "expectancy": float(pnl.mean()) if n else math.nan,
        "sqn": math.sqrt(n) * float(pnl.mean()) / std if n > 1 and std > 0 else math.nan,
        "kelly": kelly,
        "max_consecutive_wins": float(longest_streak(pnl > 0)),
        "max_consecutive_losses": float(longest_streak(pnl < 0)),
    }


def risk_of_ruin(pnl: FloatArray, capital_at_risk: float) -> float:
    """Probability that cumulative trade PnL ever falls by ``capital_at_risk`` (cash), treating trades
    as i.i.d. with the sample mean μ and std σ: the drifted-random-walk (diffusion) result
    ``exp(−2 μ D / σ²)``, and 1 when μ ≤ 0."""
    if pnl.size < 2:
        return math.nan
    mean, std = float(pnl.mean()), float(np.std(pnl, ddof=1))
    if mean <= 0:
        return 1.0
    if std == 0:
        return 0.0
    return math.exp(-2.0 * mean * capital_at_risk / (std * std))
