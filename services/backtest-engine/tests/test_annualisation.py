"""Annualisation on the bars: stock days (weekends and holidays removed) against empyrical with 252,
a 24/7 series against 365, a requested ``periods_per_year``, and CAGR over calendar years."""

from __future__ import annotations

import math
from datetime import date, timedelta

import empyrical as ep
import numpy as np
import pytest

from tradeloom.backtest_engine.domain.annualisation import YEAR_NS, annualise
from tradeloom.backtest_engine.domain.run_plan import PlanError, plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.quant.metrics import equity_returns
from tradeloom.shared.contracts.backtest import SubmitBacktest

DAY_NS = 86_400 * 1_000_000_000
# New Year, MLK, Presidents', Good Friday-ish, Memorial, Juneteenth, Independence, Labor, Thanksgiving,
# Christmas: ten fixed stand-ins a year, as a US exchange closes on about ten weekdays
HOLIDAYS = ((1, 1), (1, 16), (2, 20), (4, 7), (5, 29), (6, 19), (7, 4), (9, 4), (11, 23), (12, 25))


def stock_days(first: date, last: date) -> np.ndarray:
    """UTC midnight of every weekday in [first, last] that is not one of the stand-in holidays."""
    days = []
    day = first
    while day <= last:
        if day.weekday() < 5 and (day.month, day.day) not in HOLIDAYS:
            days.append((day - date(1970, 1, 1)).days * DAY_NS)
        day += timedelta(days=1)
    return np.array(days, dtype=np.int64)


def walk(time: np.ndarray, seed: int = 3) -> BarArrays:
    rng = np.random.default_rng(seed)
    n = time.size
    close = 100 * np.exp(np.cumsum(rng.normal(0.0004, 0.012, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    high = np.maximum(open_, close) * 1.002
    low = np.minimum(open_, close) * 0.998
    return BarArrays(time, open_, high, low, close, np.full(n, 1_000.0))


def dataset_plan(**extra: object) -> SubmitBacktest:
    body = {"strategy": "sma_cross", "params": {"fast": 10, "slow": 40}, "dataset_id": "d1"} | extra
    return SubmitBacktest.model_validate(body)


def test_stock_days_are_annualised_near_252_like_empyrical_and_cagr_counts_calendar_years() -> None:
    time = stock_days(date(2015, 1, 1), date(2023, 6, 30))  # 8.5 calendar years
    bars = walk(time)
    plan = with_bars(plan_run(dataset_plan()), time, DAY_NS)
    convention = plan.annualisation
    assert convention is not None and convention.source == "inferred"
    years = ((int(time[-1]) - int(time[0]) + DAY_NS) / DAY_NS) / 365
    assert convention.years == pytest.approx(years, rel=1e-15) and 8.4 < years < 8.6
    assert convention.periods_per_year == pytest.approx(time.size / years, rel=1e-15)
    assert 250 < convention.periods_per_year < 254  # not 365

    outcome = run_backtest(plan, bars)
    returns = equity_returns(outcome.equity, plan.config.initial_cash)
    ppy = convention.periods_per_year
    # the same definitions as empyrical at the inferred rate (exact) ...
    assert outcome.metrics["sharpe"] == pytest.approx(ep.sharpe_ratio(returns, annualization=ppy), rel=1e-9)
    assert outcome.metrics["sortino"] == pytest.approx(ep.sortino_ratio(returns, annualization=ppy), rel=1e-9)
    assert outcome.metrics["annual_volatility"] == pytest.approx(
        ep.annual_volatility(returns, annualization=ppy), rel=1e-9
    )
    # ... and within the inferred rate's distance of empyrical's 252 convention (√(ppy/252) ≈ 1)
    for name, reference in (
        ("sharpe", ep.sharpe_ratio(returns, annualization=252)),
        ("annual_volatility", ep.annual_volatility(returns, annualization=252)),
    ):
        assert outcome.metrics[name] == pytest.approx(reference, rel=0.005), name
    # CAGR: growth over the calendar years (= empyrical's with 252 up to the rate's rounding)
    growth = float(outcome.equity[-1]) / plan.config.initial_cash
    assert outcome.metrics["cagr"] == pytest.approx(growth ** (1 / years) - 1, rel=1e-12)
    assert outcome.metrics["cagr"] == pytest.approx(ep.cagr(returns, annualization=252), rel=0.01)
    # the old convention (365 days / 1d bar) overstated Sharpe by √(365/ppy) ≈ 1.2
    old = ep.sharpe_ratio(returns, annualization=365)
    assert old / outcome.metrics["sharpe"] == pytest.approx(math.sqrt(365 / ppy), rel=1e-9)


def test_a_24_7_daily_series_is_exactly_365_bars_a_year() -> None:
    time = np.arange(1_000, dtype=np.int64) * DAY_NS + 19_723 * DAY_NS  # from 2024-01-01, every day
    bars = walk(time, seed=5)
    plan = with_bars(plan_run(dataset_plan()), time, DAY_NS)
    assert plan.annualisation is not None and plan.annualisation.periods_per_year == 365.0
    assert plan.annualisation.years == 1_000 / 365
    outcome = run_backtest(plan, bars)
    returns = equity_returns(outcome.equity, plan.config.initial_cash)
    assert outcome.metrics["sharpe"] == pytest.approx(ep.sharpe_ratio(returns, annualization=365), rel=1e-9)
    assert outcome.metrics["cagr"] == pytest.approx(ep.cagr(returns, annualization=365), rel=1e-9)


def test_hourly_24_7_bars_are_8760_a_year_and_a_requested_rate_wins_but_cagr_stays_calendar() -> None:
    hour = DAY_NS // 24
    time = np.arange(600, dtype=np.int64) * hour
    assert annualise(time, hour, None).periods_per_year == 8_760.0
    requested = annualise(time, hour, 252.0 * 6.5)
    assert requested.source == "request" and requested.periods_per_year == 1_638.0
    assert requested.years == 600 * hour / YEAR_NS

    stock_time = stock_days(date(2020, 1, 1), date(2021, 12, 31))
    bars = walk(stock_time, seed=9)
    plan = with_bars(plan_run(dataset_plan(periods_per_year=252)), stock_time, DAY_NS)
    assert plan.periods_per_year == 252.0 and plan.annualisation is not None
    outcome = run_backtest(plan, bars)
    returns = equity_returns(outcome.equity, plan.config.initial_cash)
    assert outcome.metrics["sharpe"] == pytest.approx(ep.sharpe_ratio(returns, annualization=252), rel=1e-9)
    growth = float(outcome.equity[-1]) / plan.config.initial_cash
    assert outcome.metrics["cagr"] == pytest.approx(growth ** (1 / plan.annualisation.years) - 1, rel=1e-12)


@pytest.mark.parametrize("bad", [0, -1, 40_000_000])
def test_periods_per_year_out_of_range_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="periods_per_year"):
        dataset_plan(periods_per_year=bad)


def test_plan_errors_still_name_their_field() -> None:
    with pytest.raises(PlanError) as caught:
        plan_run(dataset_plan(symbol="BTC/USDT"))
    assert caught.value.field == "dataset_id"
