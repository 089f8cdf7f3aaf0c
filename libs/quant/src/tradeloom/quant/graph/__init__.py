"""Builder graphs: the node catalog, validation naming node and port, compilation to signal arrays."""

from tradeloom.quant.graph.compile import CompiledGraph, GraphSettings, compile_graph
from tradeloom.quant.graph.model import Edge, Graph, GraphInvalid, GraphIssue, IssueCode, Node
from tradeloom.quant.graph.node_spec import NodeSpec, Port
from tradeloom.quant.graph.nodes import NODE_TYPES
from tradeloom.quant.graph.validate import check_graph, graph_issues

__all__ = [
    "NODE_TYPES",
    "CompiledGraph",
    "Edge",
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
    "graph_issues",
]
