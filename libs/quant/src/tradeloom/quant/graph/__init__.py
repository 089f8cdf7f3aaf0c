"""Builder graphs: the node catalog, validation naming node and port, compilation to signal arrays."""

from tradeloom.quant.graph.compile import CompiledGraph, External, GraphSettings, compile_graph
from tradeloom.quant.graph.indicator import CompiledIndicator, compile_indicator
from tradeloom.quant.graph.model import Edge, Graph, GraphInvalid, GraphIssue, IssueCode, Node
from tradeloom.quant.graph.node_spec import EXTERNAL, NodeSpec, Port
from tradeloom.quant.graph.nodes import INDICATOR_NODE_TYPES, NODE_TYPES
from tradeloom.quant.graph.validate import check_graph, graph_issues

__all__ = [
    "EXTERNAL",
    "INDICATOR_NODE_TYPES",
    "NODE_TYPES",
    "CompiledGraph",
    "CompiledIndicator",
    "Edge",
    "External",
    "Graph",
    "GraphInvalid",
    "GraphIssue",
    "GraphSettings",
    "IssueCode",
    "Node",
    "NodeSpec",
    "Port",
    "check_graph",
    "compile_graph",
    "compile_indicator",
    "graph_issues",
]
