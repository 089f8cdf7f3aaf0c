"""The running-figures grid rows equal the full path bit for bit: crosses as arrays, the simulator
with its record table, equity and position curves, then ``summary_metrics`` — the general row under
any costs, stops, sizing and fill timing, the market fast row (``cross_row_market``) under every
configuration it qualifies for; long-only and with shorts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import configs, costs, random_walk_bars

from tradeloom.quant.fills.models import CommissionModel, Costs, SizingMode, SlippageModel, normalized_costs
from tradeloom.quant.indicators import ema, sma
from tradeloom.quant.indicators.volatility import rolling_volatility
from tradeloom.quant.optimise.compiled import summary_metrics
from tradeloom.quant.optimise.market_row import cross_row_market, market_row_qualifies
from tradeloom.quant.optimise.running import cross_row_figures
from tradeloom.quant.simulator.config import SimulationConfig, normalized_config
from tradeloom.quant.simulator.kernel import simulate
from tradeloom.quant.strategies.signals import crosses


def _full_path(fast, slow, short, bars, volatility, config, cost, ppy):  # type: ignore[no-untyped-def]
    up, down = crosses(fast, slow)
    none = np.zeros(up.shape[0], dtype=np.bool_)
    entry_short, exit_short = (down, up) if short else (none, none)
    trades, equity, position, bad, _ = simulate(
        bars.open, bars.high, bars.low, bars.close, bars.volume, up, down, entry_short, exit_short,
        np.empty(0), volatility, np.empty(0, dtype=np.int64), config, cost,
    )  # fmt: skip
    assert bad == -1
    return summary_metrics(equity, position, trades, config.initial_cash, ppy)


@settings(max_examples=30, deadline=None)
@given(
    st.integers(0, 300),
    st.integers(0, 2**32 - 1),
    st.integers(1, 12),
    st.integers(2, 30),
    st.booleans(),
    st.booleans(),
    configs,
    costs,
)
def test_running_row_equals_simulate_then_summary_exactly(
    n: int, seed: int, fast: int, slow: int, exponential: bool, short: bool, config: SimulationConfig,
    cost: Costs,
) -> None:  # fmt: skip
    bars = random_walk_bars(n, seed)
    config, cost = normalized_config(config), normalized_costs(cost)
    average = ema if exponential else sma
    f, s = average(bars.close, fast), average(bars.close, slow)
    volatility = (
        rolling_volatility(bars.close, 10, 365.0)
        if config.sizing_mode == SizingMode.VOLATILITY_TARGET
        else np.empty(0)
    )
    expected = _full_path(f, s, short, bars, volatility, config, cost, 365.0)
    actual = cross_row_figures(
        f, s, short, bars.open, bars.high, bars.low, bars.close, bars.volume, volatility, config, cost, 365.0
    )
    np.testing.assert_array_equal(actual, expected)


def test_running_row_on_a_long_trading_walk() -> None:
    bars = random_walk_bars(20_000, 3)
    config = normalized_config(SimulationConfig(initial_cash=1e6, whole_units=True, stop_loss=0.02))
    cost = normalized_costs(Costs())
    f, s = sma(bars.close, 10), sma(bars.close, 20)
    for short in (False, True):
        expected = _full_path(f, s, short, bars, np.empty(0), config, cost, 252.0)
        assert expected[6] > 500  # trades throughout
        actual = cross_row_figures(
            f, s, short, bars.open, bars.high, bars.low, bars.close, bars.volume, np.empty(0), config, cost,
            252.0,
        )  # fmt: skip
        np.testing.assert_array_equal(actual, expected)


def _without_exits(config: SimulationConfig) -> SimulationConfig:
    return config._replace(stop_loss=np.nan, take_profit=np.nan, trailing_stop=np.nan)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 400),
    st.integers(0, 2**32 - 1),
    st.integers(1, 12),
    st.integers(2, 30),
    st.booleans(),
    st.booleans(),
    configs.map(_without_exits),
    costs.filter(lambda c: c.commission_model != CommissionModel.TIERED),
)
def test_market_row_equals_simulate_then_summary_exactly(
    n: int, seed: int, fast: int, slow: int, exponential: bool, short: bool, config: SimulationConfig,
    cost: Costs,
) -> None:  # fmt: skip
    bars = random_walk_bars(n, seed)
    config, cost = normalized_config(config), normalized_costs(cost)
    assert market_row_qualifies(config, cost)
    average = ema if exponential else sma
    f, s = average(bars.close, fast), average(bars.close, slow)
    volatility = (
        rolling_volatility(bars.close, 10, 365.0)
        if config.sizing_mode == SizingMode.VOLATILITY_TARGET
        else np.empty(0)
    )
    expected = _full_path(f, s, short, bars, volatility, config, cost, 365.0)
    actual = cross_row_market(
        f, s, short, bars.open, bars.close, bars.volume, volatility, config, cost, 365.0
    )
    np.testing.assert_array_equal(actual, expected)


def test_market_row_qualifies_only_without_exits_and_tiers() -> None:
    plain = normalized_config(SimulationConfig())
    assert market_row_qualifies(plain, normalized_costs(Costs()))
    for exits in ({"stop_loss": 0.02}, {"take_profit": 0.05}, {"trailing_stop": 0.03}):
        assert not market_row_qualifies(plain._replace(**exits), normalized_costs(Costs()))
    tiered = normalized_costs(Costs(commission_model=int(CommissionModel.TIERED)))
    assert not market_row_qualifies(plain, tiered)


def test_market_row_on_a_long_trading_walk_with_fees_and_slippage() -> None:
    bars = random_walk_bars(20_000, 4)
    cost = normalized_costs(
        Costs(slippage_model=int(SlippageModel.PERCENT), slippage=0.0005,
              commission_model=int(CommissionModel.PERCENT), taker_rate=0.001)
    )  # fmt: skip
    f, s = sma(bars.close, 10), sma(bars.close, 20)
    for on_close in (False, True):
        config = normalized_config(
            SimulationConfig(initial_cash=1e6, whole_units=True, fill_on_close=on_close)
        )
        for short in (False, True):
            expected = _full_path(f, s, short, bars, np.empty(0), config, cost, 252.0)
            assert expected[6] > 500  # trades throughout
            actual = cross_row_market(
                f, s, short, bars.open, bars.close, bars.volume, np.empty(0), config, cost, 252.0
            )  # fmt: skip
            np.testing.assert_array_equal(actual, expected)
