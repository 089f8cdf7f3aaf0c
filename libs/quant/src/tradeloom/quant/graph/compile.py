"""A valid graph compiled to an evaluation plan whose steps are ``tradeloom.quant``'s compiled kernels.

``compile_graph`` validates once and keeps only the nodes some sink needs; ``CompiledGraph.signals``
then runs the plan on bars and returns the same signal arrays the built-in strategies return, for
the same simulator. Setting sinks become the simulator's stop-loss, take-profit, trailing stop and
position size (``GraphSettings``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from tradeloom.quant.graph.fusion import fuse
from tradeloom.quant.graph.kernels import held_position
from tradeloom.quant.graph.model import Graph
from tradeloom.quant.graph.node_spec import BOOL
from tradeloom.quant.graph.nodes import POSITION, SIGNAL_SINKS
from tradeloom.quant.graph.validate import CheckedNode, Wire, after_position, check_graph
from tradeloom.quant.simulator import Bars
from tradeloom.quant.strategies.signals import SignalArrays

External = Mapping[str, Mapping[str, np.ndarray]]  # external node id → output name → series


@dataclass(frozen=True)
class GraphSettings:
    """What the setting sinks ask of the simulator (NaN: the sink is absent)."""

    stop_loss: float = math.nan
    take_profit: float = math.nan
    trailing_stop: float = math.nan
    position_size: float = math.nan  # fraction of equity per entry


def run_step(
    step: CheckedNode, values: dict[Wire, np.ndarray], bars: Bars, external: External | None = None
) -> None:
    if step.spec.external:
        given = (external or {}).get(step.id, {})
        missing = [port.name for port in step.spec.outputs if port.name not in given]
        if missing:
            raise ValueError(f"{step.id}: no series given for its output {missing[0]!r}")
        outputs: tuple[np.ndarray, ...] = tuple(given[port.name] for port in step.spec.outputs)
        if any(np.shape(value) != np.shape(bars.close) for value in outputs):
            raise ValueError(f"{step.id}: a given series is not one value per bar")
    else:
        inputs = {port: values[wire] for port, wire in step.inputs.items()}
        assert step.spec.compute is not None  # sinks are not steps
        outputs = step.spec.compute(inputs, step.params, bars)
    for port, value in zip(step.spec.outputs, outputs, strict=True):
        dtype = np.bool_ if port.kind == BOOL else np.float64
        values[(step.id, port.name)] = np.ascontiguousarray(value, dtype=dtype)


@dataclass(frozen=True)
class CompiledGraph:
    steps: tuple[CheckedNode, ...]  # the nodes the sinks need, in evaluation order (after ``fuse``)
    sinks: dict[str, Wire]  # signal sink type → the output feeding it
    settings: GraphSettings
    after_position: tuple[CheckedNode, ...] = ()  # steps state.position reaches: once per position

    @property
    def allows_short(self) -> bool:
        return "sink.enter_short" in self.sinks

    @property
    def external(self) -> dict[str, tuple[str, ...]]:
        """The external nodes the sinks need (node id → the outputs read): their series must be
        given to ``signals``."""
        return {
            step.id: tuple(port.name for port in step.spec.outputs)
            for step in self.steps
            if step.spec.external
        }

    def signals(self, bars: Bars, external: External | None = None) -> SignalArrays:
        """(entry_long, exit_long, entry_short, exit_short, entry_level) like a built-in strategy's;
        ``external``: the series of each external node (see ``external``), float64 one per bar."""
        n = int(np.shape(bars.close)[0])
        values: dict[Wire, np.ndarray] = {}
        for step in self.steps:
            run_step(step, values, bars, external)
        if not self.after_position:
            flags = self._flags(values, n)
            return flags[0], flags[1], flags[2], flags[3], np.empty(0)
        branches = []
        for held in (-1.0, 0.0, 1.0):  # element-wise nodes: their value had the position been ``held``
            branch = dict(values)
            for step in self.after_position:
                if step.spec.type == POSITION:
                    branch[(step.id, "out")] = np.full(n, held)
                else:
                    run_step(step, branch, bars)
            branches.append(self._flags(branch, n))
        el, xl, es, xs = (np.stack([branch[i] for branch in branches]) for i in range(4))
        resolved = held_position(el, xl, es, xs)
        return resolved[0], resolved[1], resolved[2], resolved[3], np.empty(0)

    def _flags(self, values: dict[Wire, np.ndarray], n: int) -> list[np.ndarray]:
        flags: list[np.ndarray] = []
        for sink in SIGNAL_SINKS:
            wire = self.sinks.get(sink)
            if wire is None:
                flags.append(np.zeros(n, dtype=np.bool_))
            else:  # two sinks fed by one output get arrays of their own, like the built-ins'
                flags.append(
                    values[wire] if all(f is not values[wire] for f in flags) else values[wire].copy()
                )
        return flags


_SETTINGS = {
    "sink.stop_loss": "stop_loss",
    "sink.take_profit": "take_profit",
    "sink.trailing_stop": "trailing_stop",
    "sink.position_size": "position_size",
}


def compile_graph(graph: Graph, *, fused: bool = True) -> CompiledGraph:
    """Validate (``GraphInvalid`` listing every issue) and plan the evaluation (``fused``: with the
    built-ins' one-pass kernels where a subgraph is one; off only to test that fusion changes nothing)."""
    checked = check_graph(graph)
    checked = fuse(checked) if fused else checked
    by_id = {node.id: node for node in checked}
    sinks: dict[str, Wire] = {}
    settings: dict[str, float] = {}
    needed: set[str] = set()
    for node in checked:
        if node.spec.type in SIGNAL_SINKS:
            sinks[node.spec.type] = node.inputs["when"]  # rewired by fusion
            stack = [node.inputs["when"][0]]
            while stack:
                node_id = stack.pop()
                if node_id not in needed:
                    needed.add(node_id)
                    stack.extend(source for source, _ in by_id[node_id].inputs.values())
        elif node.spec.type in _SETTINGS:
            settings[_SETTINGS[node.spec.type]] = float(node.params["fraction"])
    by_order = [node.id for node in checked]
    wiring = {node.id: node.inputs for node in checked}
    known = {node.id: (node.spec, node.params) for node in checked}
    later = after_position(by_order, known, wiring)
    steps = tuple(node for node in checked if node.id in needed and node.id not in later)
    after = tuple(node for node in checked if node.id in needed and node.id in later)
    return CompiledGraph(steps, sinks, GraphSettings(**settings), after)
