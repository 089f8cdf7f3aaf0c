"""The simulator's market-order fast path returns bit for bit what the general loop returns, and both
equal the plain-Python reference; ``simulate`` takes the fast path only for configurations it covers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import assert_series_close, costs, random_walk_bars

from tradeloom.quant.fills.models import CommissionModel, Costs, OrderType, SizingMode
from tradeloom.quant.indicators import rolling_volatility
from tradeloom.quant.reference.simulator import reference_simulate
from tradeloom.quant.simulator import SimulationConfig, simulate
from tradeloom.quant.simulator.config import normalized_config
from tradeloom.quant.simulator.kernel import simulate_general
from tradeloom.quant.simulator.market_kernel import entry_capacity, simulate_market

NO_LEVELS = np.empty(0)
NO_DAYS = np.empty(0, dtype=np.int64)

market_configs = st.builds(  # every field given: builds() would draw the rest from the type hints
    SimulationConfig,
    initial_cash=st.floats(100.0, 1e6),
    fill_on_close=st.booleans(),
    entry_order_type=st.just(int(OrderType.MARKET)),
    entry_ttl=st.integers(1, 3),
    stop_loss=st.just(math.nan),
    take_profit=st.just(math.nan),
    trailing_stop=st.just(math.nan),
    sizing_mode=st.sampled_from([int(m) for m in SizingMode]),
    sizing_value=st.floats(0.05, 2.0),
    whole_units=st.booleans(),
    max_leverage=st.floats(0.5, 3.0),
    max_entries_per_day=st.just(0),
)


def _inputs(n: int, seed: int, density: float, with_volatility: bool) -> tuple[object, ...]:
    bars = random_walk_bars(n, seed, step=0.02)
    rng = np.random.default_rng(seed)
    flags = [rng.random(n) < density for _ in range(4)]
    volatility = rolling_volatility(bars.close, 5, 252.0) if with_volatility else np.empty(0)
    return (bars.open, bars.high, bars.low, bars.close, bars.volume, *flags, volatility)


def _assert_identical(got: tuple[object, ...], want: tuple[object, ...]) -> None:
    for got_part, want_part in zip(got, want, strict=True):
        assert np.array_equal(np.asarray(got_part), np.asarray(want_part), equal_nan=True)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 150), st.integers(0, 2**32 - 1), st.floats(0.02, 0.5), st.booleans(), market_configs,
       costs)  # fmt: skip
def test_fast_path_is_bit_identical_to_general_loop_and_matches_reference(
    n: int, seed: int, density: float, with_volatility: bool, config: SimulationConfig, cost: Costs
) -> None:
    *arrays, volatility = _inputs(n, seed, density, with_volatility)
    config = normalized_config(config)
    general = simulate_general(*arrays, NO_LEVELS, volatility, NO_DAYS, config, cost)
    fast = simulate(*arrays, NO_LEVELS, volatility, NO_DAYS, config, cost)  # TIERED: the general loop
    _assert_identical(fast, general)
    if cost.commission_model != CommissionModel.TIERED:
        _assert_identical(simulate_market(*arrays, volatility, config, cost), general)
    full_volatility = volatility if with_volatility else np.full(n, np.nan)  # the reference reads every bar
    want_trades, want_equity, want_position, want_bad, want_counters = reference_simulate(
        *arrays, np.full(n, np.nan), full_volatility, np.zeros(n, dtype=np.int64), config, cost
    )
    assert fast[3] == want_bad == -1 and fast[4].tolist() == want_counters.tolist()
    assert fast[0].shape == want_trades.shape
    for column in range(want_trades.shape[1]):
        assert_series_close(fast[0][:, column], want_trades[:, column])
    assert_series_close(fast[1], want_equity)
    assert_series_close(fast[2], want_position)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 80), st.integers(0, 2**32 - 1), st.data(), market_configs)
def test_invalid_bar_stops_both_paths_alike(
    n: int, seed: int, data: st.DataObject, config: SimulationConfig
) -> None:
    *arrays, volatility = _inputs(n, seed, 0.3, False)
    bad = data.draw(st.integers(0, n - 1))
    series = data.draw(st.integers(0, 4))
    arrays[series] = arrays[series].copy()
    arrays[series][bad] = data.draw(st.sampled_from([math.nan, math.inf, 0.0, -1.0]))
    if series == 4 and arrays[series][bad] == 0.0:  # a zero volume is valid
        arrays[series][bad] = -1.0
    config = normalized_config(config)
    fast = simulate(*arrays, NO_LEVELS, volatility, NO_DAYS, config, Costs())
    general = simulate_general(*arrays, NO_LEVELS, volatility, NO_DAYS, config, Costs())
    assert fast[3] == general[3] == bad
    _assert_identical(fast, general)


def test_dispatch_takes_the_fast_path_only_for_what_it_covers() -> None:
    """Levels with market entries, exits and daily limits: each routed result equals the general loop."""
    *arrays, volatility = _inputs(300, 7, 0.2, False)
    levels = arrays[3] * 0.99
    days = np.arange(300, dtype=np.int64) // 10
    market = int(OrderType.MARKET)
    cases = [
        (SimulationConfig(), levels, NO_DAYS),
        (SimulationConfig(entry_order_type=int(OrderType.LIMIT)), levels, NO_DAYS),
        (SimulationConfig(stop_loss=0.01, entry_order_type=market), NO_LEVELS, NO_DAYS),
        (SimulationConfig(trailing_stop=0.02), NO_LEVELS, NO_DAYS),
        (SimulationConfig(max_entries_per_day=1), NO_LEVELS, days),
    ]
    tiered = Costs(
        commission_model=int(CommissionModel.TIERED),
        tier_thresholds=np.array([0.0, 5e3]),
        tier_maker_rates=np.array([0.001, 0.0005]),
        tier_taker_rates=np.array([0.002, 0.001]),
    )
    for raw, level, day in cases:
        config = normalized_config(raw)
        for cost in (Costs(), tiered):
            routed = simulate(*arrays, level, volatility, day, config, cost)
            _assert_identical(routed, simulate_general(*arrays, level, volatility, day, config, cost))
    limited = normalized_config(SimulationConfig(max_entries_per_day=1))
    assert simulate(*arrays, NO_LEVELS, volatility, days, limited, Costs())[4][1] > 0  # the limit applied
    with pytest.raises(ValueError, match="TIERED"):
        simulate_market(*arrays, volatility, normalized_config(SimulationConfig()), tiered)


def test_entry_capacity_counts_entry_signals() -> None:
    longs = np.array([True, False, True, True])
    shorts = np.array([False, True, False, True])
    assert entry_capacity(longs, shorts, 4) == 5  # 5 signals + 1, capped at n + 1
    assert entry_capacity(longs, np.zeros(4, dtype=bool), 4) == 4
    assert entry_capacity(np.zeros(0, dtype=bool), np.zeros(0, dtype=bool), 0) == 1
