"""Correctness anchor: SMA cross trade lists and final equity equal vectorbt's (1e-9 relative).

vectorbt fills at the signal bar's close by default; to fill at the next open like ours, its signals
are shifted one bar later and ``price`` is the open. All-in sizing is ``size=inf`` with
``size_granularity=1`` (whole units); fees are a fraction of each fill's value. vectorbt lists the
still-open last trade too, as do we (exit reason END_OF_DATA, marked at the last close).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import vectorbt as vbt  # installed by make install: a broken import must fail, not skip
from quant_testkit import random_walk_bars

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation
from tradeloom.quant.strategies.signals import sma_cross

N, CASH = 3000, 10_000.0


@pytest.mark.parametrize("short", [False, True], ids=["long_only", "long_short_reversal"])
@pytest.mark.parametrize("rate", [0.0, 0.001])
def test_sma_cross_equals_vectorbt(short: bool, rate: float) -> None:
    b = random_walk_bars(N, seed=42)
    el, xl, es, xs, _ = sma_cross(b.close, 10, 20, short)
    index = pd.date_range("2020-01-01", periods=N, freq="h")

    def next_bar(flags: np.ndarray) -> pd.Series:
        return pd.Series(flags, index).shift(1, fill_value=False)

    shorts = {"short_entries": next_bar(es), "short_exits": next_bar(xs)} if short else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf = vbt.Portfolio.from_signals(
            pd.Series(b.close, index), next_bar(el), next_bar(xl), price=pd.Series(b.open, index),
            init_cash=CASH, fees=rate, size=np.inf, size_granularity=1, freq="h", **shorts,
        )  # fmt: skip
        theirs = pf.trades.records_readable
        final_value = float(pf.final_value())

    costs = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=rate, taker_rate=rate)
    result = run_simulation(Bars(b.open, b.high, b.low, b.close, b.volume), Signals(el, xl, es, xs),
                            SimulationConfig(initial_cash=CASH, whole_units=True), costs)  # fmt: skip
    ours = result.trades.table
    assert len(theirs) > 50 and len(ours) == len(theirs)
    entry_bar = index.get_indexer(theirs["Entry Timestamp"])
    exit_bar = index.get_indexer(theirs["Exit Timestamp"])
    np.testing.assert_array_equal(ours[:, 1], entry_bar)
    np.testing.assert_array_equal(ours[:, 2], exit_bar)
    np.testing.assert_array_equal(ours[:, 0], np.where(theirs["Direction"] == "Long", 1.0, -1.0))
    np.testing.assert_array_equal(ours[:, 5], theirs["Size"].to_numpy())
    np.testing.assert_allclose(ours[:, 3], theirs["Avg Entry Price"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours[:, 4], theirs["Avg Exit Price"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours[:, 8], (theirs["Entry Fees"] + theirs["Exit Fees"]).to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours[:, 6], theirs["PnL"].to_numpy(), rtol=1e-9, atol=1e-9 * CASH)
    np.testing.assert_allclose(ours[:, 7], theirs["Return"].to_numpy(), rtol=1e-9, atol=1e-12)
    assert result.trades.is_open[-1] == (theirs["Status"].iloc[-1] == "Open")
    assert result.equity[-1] == pytest.approx(final_value, rel=1e-9)
    np.testing.assert_allclose(result.equity, pf.value().to_numpy(), rtol=1e-9)
