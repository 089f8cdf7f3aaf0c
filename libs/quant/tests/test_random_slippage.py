"""The ``random`` slippage model: compiled draws equal the plain reference, fills are reproducible
from the seed, against the trader and within the stated bound; the kernel equals the reference."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import assert_series_close, random_walk_bars

from tradeloom.quant.fills.draws import uniform_draw
from tradeloom.quant.fills.models import Costs, SlippageModel, normalized_costs
from tradeloom.quant.reference.draws import reference_uniform_draw
from tradeloom.quant.reference.simulator import reference_simulate
from tradeloom.quant.simulator import (
    Bars,
    Signals,
    SimulationConfig,
    SimulationResult,
    TradeColumn,
    run_simulation,
    simulate,
)
from tradeloom.quant.simulator.config import normalized_config
from tradeloom.quant.strategies import run_lot_strategy

SLIP = 0.004


def random_costs(seed: int) -> Costs:
    return Costs(slippage_model=int(SlippageModel.RANDOM), slippage=SLIP, slippage_seed=seed)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**63 - 1), st.integers(0, 2**40))
def test_compiled_draw_equals_the_reference(seed: int, counter: int) -> None:
    draw = uniform_draw(seed, counter)
    assert draw == reference_uniform_draw(seed, counter) and 0.0 <= draw < 1.0


def test_draws_look_uniform_and_seeds_are_separate_streams() -> None:
    draws = np.array([uniform_draw(3, k) for k in range(20_000)])
    assert abs(draws.mean() - 0.5) < 0.01 and abs(np.mean(draws < 0.25) - 0.25) < 0.01
    other = np.array([uniform_draw(4, k) for k in range(20_000)])
    assert not np.isin(draws[1:100], other).any()  # not the same stream shifted by one


def _run(seed: int, n: int = 400) -> tuple[Bars, SimulationResult]:
    b = random_walk_bars(n, 5, step=0.02)
    bars = Bars(b.open, b.high, b.low, b.close, b.volume)
    rng = np.random.default_rng(1)
    entries, exits = rng.random(n) < 0.08, rng.random(n) < 0.08
    result = run_simulation(
        bars, Signals(entries, exits, exits, entries), SimulationConfig(), random_costs(seed)
    )
    return bars, result


def test_same_seed_same_fills_other_seed_other_fills_all_against_the_trader_and_bounded() -> None:
    bars, first = _run(7)
    _, again = _run(7)
    _, other = _run(8)
    table = first.trades.table
    assert len(table) > 20
    np.testing.assert_array_equal(table, again.trades.table)
    assert not np.array_equal(table[:, int(TradeColumn.ENTRY_PRICE)],
                              other.trades.table[:, int(TradeColumn.ENTRY_PRICE)])  # fmt: skip
    side = table[:, int(TradeColumn.DIRECTION)]
    entry_ref = bars.open[table[:, int(TradeColumn.ENTRY_INDEX)].astype(int)]  # next-open market fills
    slip = (table[:, int(TradeColumn.ENTRY_PRICE)] / entry_ref - 1.0) * side
    assert (slip >= 0).all() and (slip < SLIP).all() and slip.std() > 0  # a buy pays more, a sell gets less


def test_kernel_equals_reference_under_random_slippage() -> None:
    n = 300
    b = random_walk_bars(n, 9, step=0.02)
    rng = np.random.default_rng(2)
    flags = [rng.random(n) < 0.1 for _ in range(4)]
    level = np.empty(0)
    config = normalized_config(SimulationConfig(stop_loss=0.01, take_profit=0.03))
    costs = normalized_costs(random_costs(123))
    args = (b.open, b.high, b.low, b.close, b.volume, *flags, level, np.empty(0), np.empty(0, dtype=np.int64))
    got = simulate(*args, config, costs)
    nans = np.full(n, np.nan)
    ref_args = (b.open, b.high, b.low, b.close, b.volume, *flags, nans, nans, np.empty(0, dtype=np.int64))
    want = reference_simulate(*ref_args, config, costs)
    assert got[0].shape == want[0].shape and len(got[0]) > 10
    for column in range(got[0].shape[1]):
        assert_series_close(got[0][:, column], want[0][:, column])
    assert_series_close(got[1], want[1])


def test_multi_lot_strategies_refuse_random_slippage() -> None:
    b = random_walk_bars(50, 1)
    with pytest.raises(ValueError, match="random slippage"):
        run_lot_strategy("dca", Bars(b.open, b.high, b.low, b.close, b.volume), {}, 10_000.0, random_costs(1))
