"""Builders of builder graphs for the tests: a small DSL and a hypothesis strategy of valid graphs."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import strategies as st

from tradeloom.quant.graph import Edge, Graph, Node
from tradeloom.quant.graph.model import ParamInput

Out = tuple[str, str]  # (node id, output port)


@dataclass
class GraphBuilder:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def add(self, type_: str, inputs: dict[str, Out] | None = None, node_id: str | None = None,
            **params: ParamInput) -> str:  # fmt: skip
        node_id = node_id or f"n{len(self.nodes)}"
        self.nodes.append(Node(node_id, type_, params))
        for port, (source, source_port) in (inputs or {}).items():
            self.edges.append(Edge(source, source_port, node_id, port))
        return node_id

    def out(
        self, type_: str, inputs: dict[str, Out] | None = None, port: str = "out", **params: ParamInput
    ) -> Out:
        return self.add(type_, inputs, **params), port

    def graph(self) -> Graph:
        return Graph(tuple(self.nodes), tuple(self.edges))


def sma_cross_graph(fast: int, slow: int, allow_short: bool = False) -> Graph:
    g = GraphBuilder()
    close = g.out("input.close", node_id="close")
    f = g.out("indicator.sma", {"in": close}, window=fast)
    s = g.out("indicator.sma", {"in": close}, window=slow)
    up = g.out("cross.above", {"a": f, "b": s})
    down = g.out("cross.below", {"a": f, "b": s})
    g.add("sink.enter_long", {"when": up}, node_id="enter")
    g.add("sink.exit_long", {"when": down}, node_id="exit")
    if allow_short:
        g.add("sink.enter_short", {"when": down})
        g.add("sink.exit_short", {"when": up})
    return g.graph()


_FIELDS = ("input.open", "input.high", "input.low", "input.close", "input.volume")
_SMOOTHERS = ("indicator.sma", "indicator.ema", "indicator.rsi", "window.max", "window.min", "window.lag")
_MATH = ("math.add", "math.subtract", "math.multiply", "math.divide")
_COMPARE = ("compare.greater", "compare.greater_equal", "compare.less", "compare.less_equal", "cross.above",
            "cross.below")  # fmt: skip


def _number(draw: st.DrawFn, g: GraphBuilder, depth: int) -> Out:
    """A number output that some market input reaches (on its ``a``/``in`` path)."""
    choice = draw(st.integers(0, 4 if depth > 0 else 1))
    if choice == 0:
        return g.out(draw(st.sampled_from(_FIELDS)))
    if choice == 1:
        return g.out("indicator.atr", window=draw(st.integers(1, 30)))
    if choice == 2:
        return g.out(draw(st.sampled_from(_SMOOTHERS)), {"in": _number(draw, g, depth - 1)},
                     window=draw(st.integers(1, 30)))  # fmt: skip
    if choice == 3:
        return g.out("indicator.macd", {"in": _number(draw, g, depth - 1)},
                     port=draw(st.sampled_from(["line", "signal", "histogram"])))  # fmt: skip
    b = (
        g.out("const.number", value=draw(st.floats(-100, 100)))
        if draw(st.booleans())
        else _number(draw, g, 0)
    )
    return g.out(draw(st.sampled_from(_MATH)), {"a": _number(draw, g, depth - 1), "b": b})


def _condition(draw: st.DrawFn, g: GraphBuilder, depth: int) -> Out:
    choice = draw(st.integers(0, 2 if depth > 0 else 0))
    if choice == 0:
        b = (
            g.out("const.number", value=draw(st.floats(-100, 100)))
            if draw(st.booleans())
            else _number(draw, g, 1)
        )
        return g.out(draw(st.sampled_from(_COMPARE)), {"a": _number(draw, g, 2), "b": b})
    if choice == 1:
        return g.out("logic.not", {"in": _condition(draw, g, depth - 1)})
    both = {"a": _condition(draw, g, depth - 1), "b": _condition(draw, g, depth - 1)}
    return g.out(draw(st.sampled_from(["logic.and", "logic.or"])), both)


@st.composite
def valid_graphs(draw: st.DrawFn) -> Graph:
    """A random well-typed graph with an entry sink, every sink fed by market data."""
    g = GraphBuilder()
    g.add("sink.enter_long", {"when": _condition(draw, g, 2)}, node_id="enter")
    if draw(st.booleans()):
        g.add("sink.exit_long", {"when": _condition(draw, g, 1)}, node_id="exit")
    if draw(st.booleans()):
        since = g.out("state.bars_since", {"in": _condition(draw, g, 1)})
        limit = g.out("const.number", value=float(draw(st.integers(1, 20))))
        late = g.out("compare.greater", {"a": since, "b": limit})
        if draw(st.booleans()):  # only while short (the held position, resolved bar by bar)
            short = g.out(
                "compare.less", {"a": g.out("state.position"), "b": g.out("const.number", value=0.0)}
            )
            late = g.out("logic.and", {"a": late, "b": short})
        g.add("sink.exit_short", {"when": late})
    if draw(st.booleans()):
        g.add("sink.stop_loss", fraction=draw(st.floats(0.001, 0.5)))
    return g.graph()
