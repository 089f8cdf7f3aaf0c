"""A builder graph against the built-in it spells out: SMA(10, 20) cross on 1,000,000 bars.

The graph (close → two SMAs → cross above/below → enter/exit long) is validated, compiled and run
through the same simulator as the built-in ``sma_cross`` (the graph's crosses of two SMAs compile
to that kernel; the unfused plan, two SMAs and the crosses, is timed too). Both backtests (signals
+ simulation with trade records) are timed in interleaved rounds after a warm-up (Numba compile
excluded), and the signal step alone as well, on the backtest bench's data where the strategy
trades throughout (bench.harness: rotating rounds, median/min/max, per-round ratios; the issue's
target: graph within 1.5× of the built-in), after checking that the trade tables are identical.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from bench.bench_backtest import CASH, DATA, make_bars
from bench.harness import Contender, header, interleaved, ratio, report
from tradeloom.quant.graph import Edge, Graph, Node, compile_graph
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, SimulationResult, run_simulation
from tradeloom.quant.strategies.signals import sma_cross

BARS = 1_000_000
FAST, SLOW = 10, 20


def sma_cross_graph() -> Graph:
    nodes = (
        Node("close", "input.close"),
        Node("fast", "indicator.sma", {"window": FAST}),
        Node("slow", "indicator.sma", {"window": SLOW}),
        Node("up", "cross.above"),
        Node("down", "cross.below"),
        Node("enter", "sink.enter_long"),
        Node("exit", "sink.exit_long"),
    )
    wires = [
        ("close", "fast", "in"),
        ("close", "slow", "in"),
        ("fast", "up", "a"),
        ("slow", "up", "b"),
        ("fast", "down", "a"),
        ("slow", "down", "b"),
        ("up", "enter", "when"),
        ("down", "exit", "when"),
    ]
    return Graph(nodes, tuple(Edge(source, "out", target, port) for source, target, port in wires))


def builtin_signals(bars: Bars) -> Signals:
    return Signals(*sma_cross(bars.close, FAST, SLOW, False))


def graph_signals(bars: Bars) -> Signals:
    return Signals(*compile_graph(sma_cross_graph()).signals(bars))


def unfused_graph_signals(bars: Bars) -> Signals:
    return Signals(*compile_graph(sma_cross_graph(), fused=False).signals(bars))


def backtest(signals: Callable[[Bars], Signals], bars: Bars) -> SimulationResult:
    return run_simulation(bars, signals(bars), SimulationConfig(initial_cash=CASH, whole_units=True))


def main() -> None:
    bars = make_bars(BARS)
    ours, theirs = backtest(graph_signals, bars), backtest(builtin_signals, bars)
    identical = np.array_equal(ours.trades.table, theirs.trades.table)
    last = int(theirs.trades.entry_index.max())
    assert identical and last >= 0.9 * BARS, f"identical {identical}, last entry at bar {last}"
    trades = f"{len(theirs.trades):,} trades, identical tables, last entry in the final 10 %"
    header(f"builder graph vs built-in sma_cross, SMA({FAST}, {SLOW}), {BARS:,} bars", f"{DATA}; {trades}")
    timings = interleaved(
        [
            Contender("graph backtest", lambda: backtest(graph_signals, bars), "graph + simulation"),
            Contender("built-in backtest", lambda: backtest(builtin_signals, bars), "sma_cross + simulation"),
            Contender("graph signals", lambda: graph_signals(bars), "compile_graph(...).signals, fused"),
            Contender("unfused signals", lambda: unfused_graph_signals(bars), "graph, fused=False"),
            Contender("built-in signals", lambda: builtin_signals(bars), "strategies.signals.sma_cross"),
        ],
        rounds=7,
    )  # fmt: skip
    report(timings)
    for what in ("backtest", "signals"):
        vs = ratio(timings[f"graph {what}"], timings[f"built-in {what}"])
        print(f"   graph/built-in ({what}): {vs} (goal <= 1.5x)")


if __name__ == "__main__":
    main()
