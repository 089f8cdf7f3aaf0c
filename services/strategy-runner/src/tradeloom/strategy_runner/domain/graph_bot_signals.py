"""A bot's signals of a graph that keeps Python user indicator nodes: the compiled graph fed each
node's series (computed in the sandbox over the bot's history window), one signal per bar.

Pure (no I/O). Entry long wins over the exits on one bar, as ``bot_decision.last_signal``; the
signal of bar ``i`` over the whole window equals the one over the bars up to ``i`` for an indicator
that does not look ahead (the same rule as a user-code bot's one sandbox run per evaluation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tradeloom.quant.simulator import Bars as QuantBars
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.strategy_runner.domain.bot_decision import OHLCV, Bar
from tradeloom.strategy_runner.domain.graph import compiled

SIGNALS = ("entry_long", "exit_long", "entry_short", "exit_short")  # precedence on one bar


def python_outputs(graph: Mapping[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """Node id → the outputs read, of each Python indicator node the graph's sinks need (empty:
    none, or no graph)."""
    if graph is None or not any(node.get("type") == "user_indicator" for node in graph.get("nodes", [])):
        return {}
    return compiled(StrategyGraph.model_validate(graph)).external


def graph_signal_names(
    graph: Mapping[str, Any], bars: Sequence[Bar], series: Mapping[str, Mapping[str, Sequence[float | None]]]
) -> list[str]:
    """The signal of each bar (``none`` where there is none), oldest first, given each Python
    indicator node's outputs over ``bars`` (None: no value)."""
    plan = compiled(StrategyGraph.model_validate(graph))
    o, h, lo, c, v = (np.array([getattr(b, name) for b in bars], dtype=np.float64) for name in OHLCV)
    times = np.array([b.open_ns for b in bars], dtype=np.int64)
    external = {
        node: {name: np.array([np.nan if x is None else x for x in values], dtype=np.float64)
               for name, values in outputs.items()}
        for node, outputs in series.items()
    }  # fmt: skip
    flags = plan.signals(QuantBars(o, h, lo, c, v, times), external)[:4]
    names = ["none"] * len(bars)
    for name, flag in reversed(list(zip(SIGNALS, flags, strict=True))):
        for index in np.flatnonzero(flag):
            names[int(index)] = name
    return names
