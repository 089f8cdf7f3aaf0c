"""Curves, periods and metrics of a daily net-PnL series on a capital; numbers from tradeloom.quant.

Input rows are (day, cumulative net PnL, day PnL, exposure, trades) per UTC day; equity is
``capital + cumulative PnL``. Metrics use the daily returns of that equity with 365 periods a year
(crypto markets trade every day) and are exactly ``tradeloom.quant``'s functions on those returns.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np

from tradeloom.quant.metrics import (
    annual_return,
    annual_volatility,
    conditional_value_at_risk,
    downside_risk,
    drawdown_episodes,
    equity_returns,
    sharpe_ratio,
    sortino_ratio,
    total_return,
    value_at_risk,
)
from tradeloom.quant.types import FloatArray

PERIODS_PER_YEAR = 365.0
ZERO = Decimal(0)


@dataclass(frozen=True)
class DayRow:
    day: date
    net: Decimal  # cumulative net PnL at the day's close
    pnl: Decimal
    exposure: Decimal
    trades: int


@dataclass(frozen=True)
class Point:
    day: date
    equity: Decimal
    pnl: Decimal
    return_: float
    drawdown: Decimal
    drawdown_pct: float
    exposure: Decimal
    trades: int


def sum_rows(series: Sequence[Sequence[DayRow]]) -> list[DayRow]:
    """Day by day sum of several scopes (a strategy's bots); a scope before its first row adds 0,
    after its last row its last cumulative PnL carries."""
    days = sorted({row.day for rows in series for row in rows})
    by_scope = [{row.day: row for row in rows} for rows in series]
    last: list[Decimal] = [ZERO] * len(series)
    out: list[DayRow] = []
    for day in days:
        net = pnl = exposure = ZERO
        trades = 0
        for k, rows in enumerate(by_scope):
            row = rows.get(day)
            if row is not None:
                last[k] = row.net
                pnl += row.pnl
                exposure += row.exposure
                trades += row.trades
            net += last[k]
        out.append(DayRow(day, net, pnl, exposure, trades))
    return out


def curve(rows: Sequence[DayRow], capital: Decimal) -> list[Point]:
    """Equity, daily return and drawdown from the running peak (the capital counts as a peak).

    The day PnL and the return of the first row in a range are measured from the previous day's
    cumulative PnL, so a range cut out of a longer history starts from where it was."""
    points: list[Point] = []
    peak = None
    for row in rows:
        equity = capital + row.net
        previous = equity - row.pnl
        peak = max(previous, equity) if peak is None else max(peak, equity)
        drawdown = equity - peak
        points.append(
            Point(
                row.day, equity, row.pnl, _ratio(row.pnl, previous), drawdown, _ratio(drawdown, peak),
                row.exposure, row.trades,
            )
        )  # fmt: skip
    return points


def _ratio(top: Decimal, bottom: Decimal) -> float:
    return float(top / bottom) if bottom != 0 else 0.0


def periods(points: Sequence[Point], period: str) -> list[tuple[str, Decimal, float, int]]:
    """(label, PnL, compounded return, trades) per day or per month (``YYYY-MM``)."""
    out: dict[str, tuple[Decimal, float, int]] = {}
    for point in points:
        label = point.day.isoformat() if period == "day" else point.day.strftime("%Y-%m")
        pnl, growth, trades = out.get(label, (ZERO, 1.0, 0))
        out[label] = (pnl + point.pnl, growth * (1.0 + point.return_), trades + point.trades)
    return [(label, pnl, growth - 1.0, trades) for label, (pnl, growth, trades) in out.items()]


def returns_of(points: Sequence[Point]) -> FloatArray:
    if not points:
        return np.zeros(0)
    equity = np.array([float(point.equity) for point in points])
    first = float(points[0].equity - points[0].pnl)
    return equity_returns(equity, first)


def metrics(points: Sequence[Point]) -> dict[str, float | None]:
    """Every metric of ``tradeloom.quant.metrics`` that applies to a daily equity series."""
    if not points:
        return {}
    equity = np.array([float(point.equity) for point in points])
    initial = float(points[0].equity - points[0].pnl)
    returns = equity_returns(equity, initial)
    _, _, _, depths = drawdown_episodes(equity, initial)
    cagr = annual_return(returns, PERIODS_PER_YEAR)
    max_dd = float(depths.min()) if depths.size else 0.0
    pnl = np.array([float(point.pnl) for point in points])
    values: dict[str, float] = {
        "total_return": total_return(equity, initial),
        "final_equity": float(equity[-1]),
        "net_pnl": float(equity[-1] - initial),
        "cagr": cagr,
        "annual_volatility": annual_volatility(returns, PERIODS_PER_YEAR),
        "sharpe": sharpe_ratio(returns, PERIODS_PER_YEAR),
        "sortino": sortino_ratio(returns, PERIODS_PER_YEAR),
        "downside_risk": downside_risk(returns, PERIODS_PER_YEAR),
        "max_drawdown": max_dd,
        "avg_drawdown": float(depths.mean()) if depths.size else 0.0,
        "drawdown_episodes": float(depths.size),
        "calmar": cagr / -max_dd if max_dd < 0 else math.nan,
        "var_95": value_at_risk(returns, 0.05),
        "cvar_95": conditional_value_at_risk(returns, 0.05),
        "profitable_days": float(np.mean(pnl > 0)),
        "largest_winning_day": float(pnl.max()),
        "largest_losing_day": float(pnl.min()),
        "trading_days": float(sum(1 for point in points if point.trades)),
        "exposure": float(np.mean([point.exposure != 0 for point in points])),
    }
    return {
        name: (None if math.isnan(value) or math.isinf(value) else value) for name, value in values.items()
    }
