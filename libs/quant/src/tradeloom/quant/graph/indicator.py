"""A user indicator's graph compiled: the nodes its ``sink.output`` nodes need, run with the same
kernels as a strategy graph, answering each output (named by its node's id) as a float series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradeloom.quant.graph.compile import run_step
from tradeloom.quant.graph.model import Graph
from tradeloom.quant.graph.nodes import OUTPUT
from tradeloom.quant.graph.validate import CheckedNode, Wire, check_graph
from tradeloom.quant.simulator import Bars


@dataclass(frozen=True)
class CompiledIndicator:
    steps: tuple[CheckedNode, ...]  # the nodes the outputs need, in evaluation order
    outputs: dict[str, Wire]  # output name (its node's id) → the wire feeding it

    def series(self, bars: Bars) -> dict[str, np.ndarray]:
        """Each output over ``bars`` (float64, NaN where the indicator has no value)."""
        values: dict[Wire, np.ndarray] = {}
        for step in self.steps:
            run_step(step, values, bars)
        return {name: np.asarray(values[wire], dtype=np.float64) for name, wire in self.outputs.items()}


def compile_indicator(graph: Graph) -> CompiledIndicator:
    """Validate as an indicator graph (``GraphInvalid`` listing every issue) and plan it."""
    checked = check_graph(graph, indicator=True)
    by_id = {node.id: node for node in checked}
    outputs = {node.id: node.inputs["value"] for node in checked if node.spec.type == OUTPUT}
    needed: set[str] = set()
    stack = [source for source, _ in outputs.values()]
    while stack:
        node_id = stack.pop()
        if node_id not in needed:
            needed.add(node_id)
            stack.extend(source for source, _ in by_id[node_id].inputs.values())
    return CompiledIndicator(tuple(node for node in checked if node.id in needed), outputs)
