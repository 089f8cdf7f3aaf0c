"""Metrics against empyrical(-reloaded) where the definitions agree, worked examples otherwise."""

from __future__ import annotations

import math

import empyrical as ep
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from quant_testkit import random_walk_bars

from tradeloom.quant import metrics as m
from tradeloom.quant.reference.metrics import drawdown_episodes as ref_episodes
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation

return_series = st.lists(st.floats(-0.2, 0.2), min_size=2, max_size=300).map(np.array)


@settings(max_examples=60, deadline=None)
@given(return_series, st.sampled_from([12.0, 52.0, 252.0, 365.0 * 24]), st.sampled_from([0.0, 0.03]))
def test_return_metrics_equal_empyrical(returns: np.ndarray, ppy: float, rf: float) -> None:
    rf_bar = rf / ppy
    close = lambda a, b: (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-9, abs=1e-12)  # noqa: E731
    assert close(m.sharpe_ratio(returns, ppy, rf), ep.sharpe_ratio(returns, rf_bar, annualization=ppy))
    assert close(m.sortino_ratio(returns, ppy, rf), ep.sortino_ratio(returns, rf_bar, annualization=ppy))
    assert close(m.annual_volatility(returns, ppy), ep.annual_volatility(returns, annualization=ppy))
    assert close(m.annual_return(returns, ppy), ep.annual_return(returns, annualization=ppy))
    assert close(m.downside_risk(returns, ppy), ep.downside_risk(returns, annualization=ppy))
    assert close(m.value_at_risk(returns), ep.value_at_risk(returns))
    assert close(m.conditional_value_at_risk(returns), ep.conditional_value_at_risk(returns))
    equity = 1000.0 * np.cumprod(1 + returns)
    _, _, _, depths = m.drawdown_episodes(equity, 1000.0)
    assert close(float(depths.min()) if depths.size else 0.0, ep.max_drawdown(returns))


@settings(max_examples=40, deadline=None)
@given(return_series, st.floats(-2, 2), st.sampled_from([0.0, 0.05]))
def test_alpha_beta_equal_empyrical(bench: np.ndarray, true_beta: float, rf: float) -> None:
    assume(np.var(bench) > 1e-10)  # beta of a (nearly) constant benchmark is ill-conditioned
    returns = true_beta * bench + np.sin(np.arange(bench.size)) * 0.001
    ours = m.alpha_beta(returns, bench, 252.0, rf)
    theirs = ep.alpha_beta(returns, bench, rf / 252.0, annualization=252.0)
    for a, b in zip(ours, theirs, strict=True):
        assert (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, rel=1e-7, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(50, 150), max_size=80).map(np.array), st.floats(50, 150))
def test_drawdown_episodes_match_reference(equity: np.ndarray, initial: float) -> None:
    starts, troughs, ends, depths = m.drawdown_episodes(equity, initial)
    got = list(zip(starts.tolist(), troughs.tolist(), ends.tolist(), depths.tolist(), strict=True))
    assert got == ref_episodes(equity, initial)


def test_trade_statistics_worked_example() -> None:
    pnl = np.array([100.0, -50.0, 200.0, -50.0, -50.0, 0.0, 150.0])
    stats = m.trade_statistics(pnl, pnl / 1000.0)
    assert stats["trades"] == 7 and stats["win_rate"] == pytest.approx(3 / 7)
    assert stats["avg_win"] == pytest.approx(150.0) and stats["avg_loss"] == pytest.approx(-50.0)
    assert stats["profit_factor"] == pytest.approx(450 / 150)
    assert stats["expectancy"] == pytest.approx(300 / 7)
    assert stats["sqn"] == pytest.approx(math.sqrt(7) * pnl.mean() / pnl.std(ddof=1))
    assert stats["kelly"] == pytest.approx(3 / 7 - (4 / 7) / 3)
    assert stats["max_consecutive_wins"] == 1 and stats["max_consecutive_losses"] == 2
    assert stats["best_trade"] == 0.2 and stats["worst_trade"] == -0.05
    assert m.risk_of_ruin(np.array([1.0, 3.0, -1.0, 1.0]), 10.0) == pytest.approx(
        math.exp(-2 * 1 * 10 / (8 / 3))
    )
    assert m.risk_of_ruin(np.array([-1.0, 0.5]), 10.0) == 1.0


def test_daily_pnl_worked_example() -> None:
    day = 86_400 * 10**9
    time = np.array([0, day // 2, day, day + 1, 3 * day], dtype=np.int64)
    days, pnl = m.daily_pnl(np.array([101.0, 103.0, 99.0, 100.0, 110.0]), time, 100.0)
    assert days.tolist() == [0, day, 3 * day]
    assert pnl.tolist() == [3.0, -3.0, 10.0]


def test_report_on_a_run() -> None:
    b = random_walk_bars(600, seed=5)
    bars = Bars(b.open, b.high, b.low, b.close, b.volume)
    rng = np.random.default_rng(5)
    signals = Signals(rng.random(600) < 0.05, rng.random(600) < 0.05)
    result = run_simulation(bars, signals, SimulationConfig(initial_cash=1e4))
    time = np.arange(600, dtype=np.int64) * 3_600 * 10**9
    report = m.compute_metrics(result, b.close, 1e4, periods_per_year=24 * 365, time=time)
    metrics = report.metrics
    returns = m.equity_returns(result.equity, 1e4)
    assert metrics["sharpe"] == pytest.approx(ep.sharpe_ratio(returns, annualization=24 * 365))
    assert metrics["max_drawdown"] == pytest.approx(ep.max_drawdown(returns))
    assert metrics["calmar"] == pytest.approx(ep.calmar_ratio(returns, annualization=24 * 365))
    assert metrics["final_equity"] == pytest.approx(1e4 * (1 + metrics["total_return"]))
    assert metrics["exposure"] == pytest.approx(np.mean(result.position != 0))
    assert metrics["buy_and_hold_return"] == pytest.approx(b.close[-1] / b.close[0] - 1)
    assert report.daily_pnl is not None and report.daily_pnl.sum() == pytest.approx(result.equity[-1] - 1e4)
    assert 0 <= metrics["profitable_days"] <= 1
    dd = report.max_drawdown
    assert dd is not None and dd.trough > dd.start and dd.depth == metrics["max_drawdown"]
    assert metrics["trades"] == len(result.trades.closed())
