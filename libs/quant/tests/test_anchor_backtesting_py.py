"""Correctness anchor: SMA cross trade lists and final equity equal backtesting.py's (1e-9 relative).

Matching settings: fill at the next bar's open, commission on both legs, whole units, all-in sizing
(backtesting.py's default size is all available margin minus an epsilon), open trades not finalised.
backtesting.py is AGPL: imported here as a test-only dependency, never vendored.
"""

from __future__ import annotations

import warnings

import backtesting  # installed by make install: a broken import must fail, not skip
import numpy as np
import pandas as pd
import pytest
from quant_testkit import random_walk_bars

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.indicators import sma
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation
from tradeloom.quant.strategies.signals import sma_cross

N, CASH = 3000, 10_000.0


def _backtesting_py(
    frame: pd.DataFrame, fast: np.ndarray, slow: np.ndarray, short: bool, rate: float
) -> object:
    from backtesting.lib import crossover

    class SmaCross(backtesting.Strategy):  # type: ignore[misc, name-defined]
        def init(self) -> None:
            self.fast = self.I(lambda: fast, name="fast")
            self.slow = self.I(lambda: slow, name="slow")

        def next(self) -> None:
            if crossover(self.fast, self.slow):
                self.position.close()
                self.buy()
            elif crossover(self.slow, self.fast):
                self.position.close()
                if short:
                    self.sell()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bt = backtesting.Backtest(frame, SmaCross, cash=CASH, commission=rate, finalize_trades=False)
        return bt.run()


@pytest.mark.parametrize("short", [False, True], ids=["long_only", "long_short_reversal"])
@pytest.mark.parametrize("rate", [0.0, 0.001])
def test_sma_cross_equals_backtesting_py(short: bool, rate: float) -> None:
    b = random_walk_bars(N, seed=42)
    index = pd.date_range("2020-01-01", periods=N, freq="h")
    frame = pd.DataFrame({"Open": b.open, "High": b.high, "Low": b.low, "Close": b.close, "Volume": b.volume},
                         index=index)  # fmt: skip
    stats = _backtesting_py(frame, sma(b.close, 10), sma(b.close, 20), short, rate)
    theirs = stats["_trades"]  # type: ignore[index]

    el, xl, es, xs, _ = sma_cross(b.close, 10, 20, short)
    costs = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=rate, taker_rate=rate)
    result = run_simulation(Bars(b.open, b.high, b.low, b.close, b.volume), Signals(el, xl, es, xs),
                            SimulationConfig(initial_cash=CASH, whole_units=True), costs)  # fmt: skip
    ours = result.trades.closed().table
    assert len(theirs) > 50 and len(ours) == len(theirs)
    np.testing.assert_array_equal(ours[:, 1], theirs["EntryBar"].to_numpy())
    np.testing.assert_array_equal(ours[:, 2], theirs["ExitBar"].to_numpy())
    np.testing.assert_array_equal(ours[:, 0] * ours[:, 5], theirs["Size"].to_numpy())
    np.testing.assert_allclose(ours[:, 3], theirs["EntryPrice"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours[:, 4], theirs["ExitPrice"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(ours[:, 6], theirs["PnL"].to_numpy(), rtol=1e-9, atol=1e-9 * CASH)
    np.testing.assert_allclose(ours[:, 7], theirs["ReturnPct"].to_numpy(), rtol=1e-9, atol=1e-12)
    assert result.equity[-1] == pytest.approx(stats["Equity Final [$]"], rel=1e-9)  # type: ignore[index]
