"""Every strategy the compiled grid can optimise: each of its rows equals a single run of the same
parameters (signals from the catalog, the Python simulator, the full metrics); strategies it cannot
optimise are refused by name rather than silently left out of this check."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from quant_testkit import random_walk_bars

from tradeloom.quant.fills.models import CommissionModel, Costs
from tradeloom.quant.metrics import compute_metrics
from tradeloom.quant.optimise import SUMMARY_COLUMNS, evaluate, grid_candidates
from tradeloom.quant.optimise.compiled import STRATEGY_IDS
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, run_simulation
from tradeloom.quant.strategies import OhlcArrays, strategy_signals
from tradeloom.quant.strategies.catalog import BUILTIN_STRATEGIES

COSTS = Costs(commission_model=int(CommissionModel.PERCENT), maker_rate=0.0005, taker_rate=0.001)
BOTH = [False, True]

GRIDS: dict[str, dict[str, Sequence[object]]] = {
    "sma_cross": {"fast": [5, 10, 20], "slow": [10, 20, 40], "allow_short": BOTH},
    "ema_cross": {"fast": [5, 10, 20], "slow": [10, 20, 40], "allow_short": BOTH},
    "macd": {"fast": [5, 12], "slow": [12, 26], "signal": [5, 9], "allow_short": BOTH},
    "rsi_reversion": {
        "window": [7, 14],
        "oversold": [25.0, 30.0],
        "overbought": [70.0, 75.0],
        "exit_level": [45.0, 55.0],
        "allow_short": BOTH,
    },
    "bollinger": {"window": [10, 20], "k": [1.5, 2.0], "breakout": BOTH, "allow_short": BOTH},
    "donchian_breakout": {"window": [10, 20], "exit_window": [5, 10], "allow_short": BOTH},
}


def test_the_grids_cover_every_optimisable_strategy() -> None:
    assert set(GRIDS) == set(STRATEGY_IDS)


@pytest.mark.parametrize("strategy", sorted(set(BUILTIN_STRATEGIES) - set(STRATEGY_IDS)))
def test_a_strategy_without_compiled_code_is_refused(strategy: str) -> None:
    b = random_walk_bars(50, 1)
    with pytest.raises(ValueError, match="cannot be optimised"):
        evaluate(strategy, [{}], Bars(b.open, b.high, b.low, b.close, b.volume))


@pytest.mark.parametrize("whole_units", [True, False], ids=["whole_units", "fractional"])
@pytest.mark.parametrize("strategy", sorted(GRIDS))
def test_every_grid_row_equals_a_single_run(strategy: str, whole_units: bool) -> None:
    b = random_walk_bars(1500, 11)
    bars = Bars(b.open, b.high, b.low, b.close, b.volume)
    ohlc = OhlcArrays(bars.open, bars.high, bars.low, bars.close)
    config = SimulationConfig(whole_units=whole_units)
    candidates = grid_candidates(GRIDS[strategy])
    results = evaluate(strategy, candidates, bars, config, COSTS, periods_per_year=365.0)
    assert len(results) + results.skipped == len(candidates) and len(results) > 0
    kinds = {p.name: p.kind for p in BUILTIN_STRATEGIES[strategy].params}
    traded = 0
    for row in range(len(results)):
        params = {name: kinds[name](values[row]) for name, values in results.params.items()}
        run = run_simulation(bars, Signals(*strategy_signals(strategy, ohlc, params)), config, COSTS)
        single = compute_metrics(run, bars.close, config.initial_cash, periods_per_year=365.0).metrics
        for name in SUMMARY_COLUMNS:
            assert results.metrics[name][row] == pytest.approx(single[name], rel=1e-9, nan_ok=True), (
                row,
                params,
                name,
            )
        traded += single["trades"] > 0
    assert traded > 0  # the comparison is not between rows that never traded
