"""A builder graph against the built-in it spells out: SMA(10, 20) cross on 1,000,000 bars.

The graph (close → two SMAs → cross above/below → enter/exit long) is validated, compiled and run
through the same simulator as the built-in ``sma_cross`` (the graph's crosses of two SMAs compile
to that kernel; the unfused plan, two SMAs and the crosses, is timed too). Both backtests (signals
+ simulation with trade records) are timed in interleaved rounds after a warm-up (Numba compile
excluded), and the signal step alone as well. Prints median, min and max of each and the
graph/built-in ratio of the medians (the issue's target: within 1.5×), and checks that the trade
tables are identical.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np

from tradeloom.quant.graph import Edge, Graph, Node, compile_graph
from tradeloom.quant.simulator import Bars, Signals, SimulationConfig, SimulationResult, run_simulation
from tradeloom.quant.strategies.signals import sma_cross

BARS = 1_000_000
ROUNDS = 7
FAST, SLOW = 10, 20


def make_bars(n: int, seed: int = 1) -> Bars:
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.002, n)))
    open_ = np.concatenate([[100.0], close[:-1]])
    return Bars(
        open_, np.maximum(open_, close) * 1.001, np.minimum(open_, close) * 0.999, close, np.full(n, 1e6)
    )


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
    return run_simulation(bars, signals(bars), SimulationConfig(initial_cash=10_000.0))


def _round(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _line(label: str, times: list[float]) -> str:
    ms = [t * 1000 for t in times]
    return f"{label:<26} median {statistics.median(ms):8.2f} ms   min {min(ms):8.2f}   max {max(ms):8.2f}"


def main() -> None:
    bars = make_bars(BARS)
    ours, theirs = backtest(graph_signals, bars), backtest(builtin_signals, bars)  # warm-up (compile)
    unfused_graph_signals(bars)
    identical = np.array_equal(ours.trades.table, theirs.trades.table)
    cases: dict[str, Callable[[], object]] = {
        "graph backtest": lambda: backtest(graph_signals, bars),
        "built-in backtest": lambda: backtest(builtin_signals, bars),
        "graph signals": lambda: graph_signals(bars),
        "unfused graph signals": lambda: unfused_graph_signals(bars),
        "built-in signals": lambda: builtin_signals(bars),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):  # interleaved, so a busy neighbour slows both sides alike
        for name, fn in cases.items():
            times[name].append(_round(fn))
    print(f"SMA({FAST}, {SLOW}) cross on {BARS:,} bars, {ROUNDS} interleaved rounds; "
          f"{len(theirs.trades)} trades, identical: {identical}")  # fmt: skip
    for name in cases:
        print(_line(name, times[name]))
    for what in ("backtest", "signals"):
        ratio = statistics.median(times[f"graph {what}"]) / statistics.median(times[f"built-in {what}"])
        print(f"ratio graph/built-in ({what}, medians): {ratio:.2f}x")


if __name__ == "__main__":
    main()
