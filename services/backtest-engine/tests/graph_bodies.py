"""Builder graphs as request JSON for backtest-engine's tests."""

from __future__ import annotations

from typing import Any


def sma_cross_graph(fast: int = 5, slow: int = 20, **sinks: float) -> dict[str, Any]:
    """close → SMA(fast), SMA(slow) → cross above / below → enter / exit long; ``sinks``: setting
    sinks such as ``stop_loss=0.05`` (``sink.<name>`` with that fraction)."""
    nodes: list[dict[str, Any]] = [
        {"id": "close", "type": "input.close"},
        {"id": "fast", "type": "indicator.sma", "params": {"window": fast}},
        {"id": "slow", "type": "indicator.sma", "params": {"window": slow}},
        {"id": "up", "type": "cross.above"},
        {"id": "down", "type": "cross.below"},
        {"id": "enter", "type": "sink.enter_long"},
        {"id": "exit", "type": "sink.exit_long"},
    ]
    nodes += [
        {"id": name, "type": f"sink.{name}", "params": {"fraction": value}} for name, value in sinks.items()
    ]
    wires = [("close", "fast", "in"), ("close", "slow", "in"), ("fast", "up", "a"), ("slow", "up", "b")]
    wires += [("fast", "down", "a"), ("slow", "down", "b"), ("up", "enter", "when"), ("down", "exit", "when")]
    edges = [{"source": s, "target": t, "target_port": p} for s, t, p in wires]
    return {"nodes": nodes, "edges": edges}
