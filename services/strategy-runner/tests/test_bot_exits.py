"""A bot's protective exits rest where backtest-engine's simulator checks them: over random bars,
the first exit of the bot's levels (moved at each close) is the simulator's, bar, price and reason."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pytest
from test_graph_strategies import sma_cross as sma_graph

from tradeloom.quant.simulator import Bars, ExitReason, Signals, SimulationConfig, TradeColumn
from tradeloom.quant.simulator.api import run_simulation
from tradeloom.strategy_runner.domain.bot_decision import Bar
from tradeloom.strategy_runner.domain.bot_exits import ExitSettings, exit_levels, exit_settings, first_exit

TINY_TICK = Decimal("1e-9")
REASONS = {
    ExitReason.STOP_LOSS: "stop_loss",
    ExitReason.TRAILING_STOP: "trailing_stop",
    ExitReason.TAKE_PROFIT: "take_profit",
}


def random_bars(seed: int, n: int = 60) -> list[Bar]:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    opens = np.concatenate([[100.0], closes[:-1]]) * np.exp(rng.normal(0, 0.004, n))
    highs = np.maximum(opens, closes) * np.exp(np.abs(rng.normal(0, 0.01, n)))
    lows = np.minimum(opens, closes) * np.exp(-np.abs(rng.normal(0, 0.01, n)))
    return [Bar(i, *map(float, row)) for i, row in enumerate(zip(opens, highs, lows, closes, strict=True))]


def simulated_exit(bars: list[Bar], settings: ExitSettings) -> tuple[int, float, str] | None:
    """The simulator's exit of a long entered by a signal on bar 0 (filled at bar 1's open)."""
    arrays = {name: np.array([getattr(b, name) for b in bars]) for name in ("open", "high", "low", "close")}
    entry = np.zeros(len(bars), dtype=np.bool_)
    entry[0] = True
    config = SimulationConfig(
        stop_loss=float(settings.stop_loss or math.nan),
        take_profit=float(settings.take_profit or math.nan),
        trailing_stop=float(settings.trailing_stop or math.nan),
    )
    result = run_simulation(
        Bars(**arrays, volume=np.ones(len(bars))), Signals(entry, np.zeros(len(bars), dtype=np.bool_)), config
    )
    row = result.trades.table[0]
    reason = ExitReason(int(row[TradeColumn.EXIT_REASON]))
    if reason not in REASONS:
        return None
    return int(row[TradeColumn.EXIT_INDEX]), float(row[TradeColumn.EXIT_PRICE]), REASONS[reason]


@pytest.mark.parametrize(
    "settings",
    [
        ExitSettings(stop_loss=Decimal("0.03")),
        ExitSettings(take_profit=Decimal("0.05")),
        ExitSettings(trailing_stop=Decimal("0.04")),
        ExitSettings(Decimal("0.05"), Decimal("0.08"), Decimal("0.03")),
        ExitSettings(take_profit=Decimal("0.06"), trailing_stop=Decimal("0.03")),  # a trailing bracket
    ],
)
def test_the_bots_exit_levels_fill_where_the_backtest_exits(settings: ExitSettings) -> None:
    compared = 0
    for seed in range(40):
        bars = random_bars(seed)
        expected = simulated_exit(bars, settings)
        hit = first_exit(settings, Decimal(str(bars[1].open)), TINY_TICK, bars[1:])
        if expected is None:
            assert hit is None, seed
            continue
        assert hit is not None, seed
        assert (hit.index + 1, hit.reason) == (expected[0], expected[2]), seed
        assert float(hit.price) == pytest.approx(expected[1], rel=1e-8), seed
        compared += 1
    assert compared >= 10


def test_levels_round_against_the_trader_and_the_trailing_stop_only_rises() -> None:
    settings = ExitSettings(Decimal("0.05"), Decimal("0.1"), Decimal("0.03"))
    tick = Decimal("0.01")
    at_entry = exit_levels(settings, Decimal("100.003"), Decimal("100.003"), tick)
    assert at_entry.stop_price == Decimal("97.00") and at_entry.stop_reason == "trailing_stop"
    assert at_entry.take_profit_price == Decimal("110.01")
    below = exit_levels(settings, Decimal("100"), Decimal("90"), tick)  # a peak below the entry: ignored
    assert below.stop_price == Decimal("97.00")
    risen = exit_levels(settings, Decimal("100"), Decimal("110"), tick)
    assert risen.stop_price == Decimal("106.70") and risen.stop_reason == "trailing_stop"
    only_loss = exit_levels(ExitSettings(stop_loss=Decimal("0.05")), Decimal("100"), Decimal("120"), tick)
    assert (only_loss.stop_price, only_loss.stop_reason, only_loss.take_profit_price) == (
        Decimal("95.00"),
        "stop_loss",
        None,
    )


def test_a_graphs_setting_sinks_are_its_bots_exits() -> None:
    graph = sma_graph(3, 5)
    assert exit_settings(graph) == ExitSettings(stop_loss=Decimal("0.05"))
    graph["nodes"] = [node for node in graph["nodes"] if node["type"] != "sink.stop_loss"]
    assert not exit_settings(graph).active and not exit_settings(None).active
