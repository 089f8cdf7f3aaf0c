"""Fusion: subgraphs that a built-in computes in one compiled pass are compiled to that kernel.

A ``cross.above``/``cross.below`` of two ``indicator.sma`` of the same series is the built-in
``sma_cross`` kernel (one pass, the means never materialised, the same arithmetic as ``sma``): both
crosses of one pair share a single call. The SMA nodes stay in the plan only if something else
reads them. Results are identical to the unfused plan (tested), only faster.
"""

from __future__ import annotations

from tradeloom.quant.graph.node_spec import NodeSpec, b_port, w
from tradeloom.quant.graph.validate import CheckedNode, Wire
from tradeloom.quant.strategies.signals import sma_cross

FUSED_SMA_CROSS = NodeSpec(
    "fused.sma_cross",
    "cross above and below of two SMAs of one series (the built-in sma_cross kernel)",
    outputs=(b_port("above"), b_port("below")),
    compute=lambda i, p, _b: sma_cross(i["in"], w(p, "fast"), w(p, "slow"), False)[:2],
)
_PORT = {"cross.above": "above", "cross.below": "below"}


def _sma_pair(node: CheckedNode, by_id: dict[str, CheckedNode]) -> tuple[Wire, int, int] | None:
    """(series, fast window, slow window) when ``node`` crosses two SMAs of one series."""
    if node.spec.type not in _PORT:
        return None
    (a, a_port), (b, b_port_) = node.inputs["a"], node.inputs["b"]
    fast, slow = by_id[a], by_id[b]
    if not (fast.spec.type == slow.spec.type == "indicator.sma" and a_port == b_port_ == "out"):
        return None
    if fast.inputs["in"] != slow.inputs["in"]:
        return None
    return fast.inputs["in"], w(fast.params), w(slow.params)


def fuse(nodes: list[CheckedNode]) -> list[CheckedNode]:
    """``nodes`` (in evaluation order) with fusable crosses replaced and their readers rewired."""
    by_id = {node.id: node for node in nodes}
    fused: dict[tuple[Wire, int, int], CheckedNode] = {}
    alias: dict[Wire, Wire] = {}
    out: list[CheckedNode] = []
    for node in nodes:
        pair = _sma_pair(node, by_id)
        if pair is None:
            inputs = {port: alias.get(wire, wire) for port, wire in node.inputs.items()}
            out.append(CheckedNode(node.id, node.spec, node.params, inputs))
            continue
        step = fused.get(pair)
        if step is None:
            series, fast, slow = pair
            step = CheckedNode(
                f"{node.id}#fused", FUSED_SMA_CROSS, {"fast": fast, "slow": slow}, {"in": series}
            )
            fused[pair] = step
            out.append(step)
        alias[(node.id, "out")] = (step.id, _PORT[node.spec.type])
    return out
