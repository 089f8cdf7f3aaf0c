"""The compiled simulator equals the plain-Python reference on random bars, signals and settings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import assert_series_close, configs, costs, random_walk_bars

from tradeloom.quant.fills.models import Costs
from tradeloom.quant.indicators import rolling_volatility
from tradeloom.quant.reference.simulator import reference_simulate
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation, simulate
from tradeloom.quant.simulator.config import normalized_config


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 120), st.integers(0, 2**32 - 1), st.floats(0.02, 0.4), configs, costs)
def test_kernel_matches_reference(
    n: int, seed: int, density: float, config: SimulationConfig, cost: Costs
) -> None:
    bars = random_walk_bars(n, seed, step=0.02)
    rng = np.random.default_rng(seed)
    flags = [rng.random(n) < density for _ in range(4)]
    level = bars.close * (1 + rng.normal(0, 0.01, n))
    level[rng.random(n) < 0.2] = np.nan
    volatility = rolling_volatility(bars.close, 5, 252.0)
    day = np.cumsum(rng.random(n) < 0.25).astype(np.int64)  # about four bars a day
    args = (bars.open, bars.high, bars.low, bars.close, bars.volume, *flags, level, volatility, day)
    config = normalized_config(config)
    got_trades, got_equity, got_position, got_bad, got_counters = simulate(*args, config, cost)
    want_trades, want_equity, want_position, want_bad, want_counters = reference_simulate(*args, config, cost)
    assert got_bad == want_bad == -1
    assert got_counters.tolist() == want_counters.tolist()
    assert got_trades.shape == want_trades.shape
    for column in range(got_trades.shape[1]):
        assert_series_close(got_trades[:, column], want_trades[:, column])
    assert_series_close(got_equity, want_equity)
    assert_series_close(got_position, want_position)


def _walk_signals(n: int) -> tuple[Bars, Signals]:
    b = random_walk_bars(n, 11)
    bars = Bars(b.open, b.high, b.low, b.close, b.volume)
    entries = np.zeros(n, dtype=bool)
    exits = np.zeros(n, dtype=bool)
    entries[[2, 10]] = True
    exits[[6]] = True
    return bars, Signals(entries, exits)


def test_next_open_fill_and_trade_record_fields() -> None:
    bars, signals = _walk_signals(20)
    time = np.arange(20, dtype=np.int64) * 60_000_000_000
    bars = Bars(bars.open, bars.high, bars.low, bars.close, bars.volume, time)
    result = run_simulation(bars, signals, SimulationConfig(initial_cash=1000.0, whole_units=True))
    trades = result.trades
    assert list(trades.duration_bars) == [4, 8] and trades.duration_ns() is not None
    assert trades.duration_ns()[0] == 4 * 60_000_000_000 and trades.entry_time()[1] == time[11]
    assert len(trades) == 2 and list(trades.is_open) == [False, True]
    assert list(trades.entry_index) == [3, 11] and trades.exit_index[0] == 7
    first = trades.table[0]
    size = math.floor(1000.0 / bars.open[3])
    assert first[5] == size and first[3] == bars.open[3] and first[4] == bars.open[7]
    assert first[6] == pytest.approx((bars.open[7] - bars.open[3]) * size)
    held = slice(3, 7)
    assert first[9] == pytest.approx(min(bars.low[held].min(), bars.open[7]) / bars.open[3] - 1)
    assert first[10] == pytest.approx(max(bars.high[held].max(), bars.open[7]) / bars.open[3] - 1)
    assert result.equity[2] == 1000.0 and result.position[3] == size
    assert result.equity[-1] == pytest.approx(1000.0 + trades.pnl.sum())
    assert (result.drawdown <= 0).all()


def test_fill_on_close_and_stop_loss_gap() -> None:
    bars, signals = _walk_signals(20)
    result = run_simulation(bars, signals, SimulationConfig(fill_on_close=True))
    assert result.trades.table[0, 3] == bars.close[2] and result.trades.table[0, 4] == bars.close[6]
    o = np.array([100.0, 100.0, 90.0, 90.0])
    gap = Bars(o, o + 1, o - 1, o, np.full(4, 1e3))
    entries = np.array([True, False, False, False])
    stopped = run_simulation(gap, Signals(entries, np.zeros(4, bool)), SimulationConfig(stop_loss=0.05))
    assert stopped.trades.table[0, 4] == 90.0  # opened through the 95 stop: filled at the open
    assert stopped.trades.table[0, 11] == 1


def test_bad_inputs_name_the_field() -> None:
    bars, signals = _walk_signals(20)
    with pytest.raises(ValueError, match="exit_long"):
        run_simulation(bars, Signals(signals.entry_long, signals.exit_long[:5]))
    with pytest.raises(ValueError, match="stop_loss"):
        run_simulation(bars, signals, SimulationConfig(stop_loss=1.5))
    with pytest.raises(ValueError, match="initial_cash"):
        run_simulation(bars, signals, SimulationConfig(initial_cash=-1.0))
    nan_bars = Bars(bars.open, bars.high, bars.low, np.full(20, np.nan), bars.volume)
    with pytest.raises(ValueError, match="bar 0 has a non-finite"):
        run_simulation(nan_bars, signals)
    low = bars.low.copy()
    low[7] = 0.0
    with pytest.raises(ValueError, match="bar 7"):
        run_simulation(Bars(bars.open, bars.high, low, bars.close, bars.volume), signals)
