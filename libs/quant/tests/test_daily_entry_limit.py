"""The simulator's daily entry limit: at most N entries fill per UTC day, the rest are dropped and
counted; the kernel's counters equal the plain reference's (also in test_simulator_kernel)."""

from __future__ import annotations

import numpy as np
import pytest
from quant_testkit import random_walk_bars

from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation

HOUR_NS = 3_600 * 1_000_000_000


def _bars(n: int, with_time: bool = True) -> Bars:
    b = random_walk_bars(n, 4, step=0.01)
    time = np.arange(n, dtype=np.int64) * HOUR_NS if with_time else None
    return Bars(b.open, b.high, b.low, b.close, b.volume, time)


@pytest.mark.parametrize("fill_on_close", [False, True])
def test_at_most_n_entries_a_day_and_the_rest_counted(fill_on_close: bool) -> None:
    n = 24 * 10
    bars = _bars(n)
    entries = np.zeros(n, dtype=bool)
    exits = np.zeros(n, dtype=bool)
    entries[0::3], exits[1::3] = True, True  # an entry signal every 3 hours, out an hour later: 8 a day
    signals = Signals(entries, exits)
    free = run_simulation(bars, signals, SimulationConfig(fill_on_close=fill_on_close))
    limited = run_simulation(
        bars, signals, SimulationConfig(fill_on_close=fill_on_close, max_entries_per_day=2)
    )
    assert free.counters == {"entries": len(free.trades), "daily_limit_hits": 0}
    days = bars.time[limited.trades.entry_index] // (24 * HOUR_NS)  # type: ignore[index]
    assert np.bincount(days).max() == 2 and len(np.unique(days)) == 10
    assert limited.counters["entries"] == len(limited.trades) == 20
    assert limited.counters["daily_limit_hits"] == len(free.trades) - 20


def test_the_limit_needs_bar_times_and_is_not_negative() -> None:
    bars = _bars(30, with_time=False)
    signals = Signals(np.ones(30, dtype=bool), np.zeros(30, dtype=bool))
    with pytest.raises(ValueError, match="max_entries_per_day"):
        run_simulation(bars, signals, SimulationConfig(max_entries_per_day=1))
    with pytest.raises(ValueError, match="max_entries_per_day"):
        run_simulation(_bars(30), signals, SimulationConfig(max_entries_per_day=-1))
