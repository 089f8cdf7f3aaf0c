"""The node types of a builder graph, by type name (``NODE_TYPES``).

Every computation is an existing compiled kernel of ``tradeloom.quant`` (indicators, rolling
windows, crosses) or a numpy element-wise operation, so a compiled graph runs at the speed of the
built-in strategies. Signal sinks take a ``bool`` series; setting sinks (stop-loss, take-profit,
trailing stop, position size) only parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from tradeloom.quant.graph import kernels
from tradeloom.quant.graph.indicator_nodes import INDICATOR_NODES
from tradeloom.quant.graph.node_spec import (
    OUT,
    Compute,
    NodeSpec,
    Series,
    b_port,
    n_port,
    on_input,
    window,
)
from tradeloom.quant.indicators import _core
from tradeloom.quant.simulator import Bars
from tradeloom.quant.strategies.schema import ParamSpec, ParamValue
from tradeloom.quant.strategies.signals import crosses

NS_PER_DAY = 86_400 * 1_000_000_000
NS_PER_MINUTE = 60 * 1_000_000_000
WHEN = (b_port("when"),)


def _fraction(name: str, upper: float, description: str) -> ParamSpec:
    return ParamSpec(name, float, 0.05, 0.0001, upper, description)


def _field(name: str) -> NodeSpec:
    return NodeSpec(
        f"input.{name}",
        f"the bar's {name}",
        outputs=OUT,
        market=True,
        compute=lambda _i, _p, b: (getattr(b, name),),
    )


def _time_of_day(_i: Mapping[str, Series], _p: Mapping[str, ParamValue], bars: Bars) -> tuple[Series, ...]:
    if bars.time is None:
        raise ValueError("time: input.time_of_day needs bar times (UTC nanoseconds)")
    minutes = (np.asarray(bars.time, dtype=np.int64) % NS_PER_DAY) // NS_PER_MINUTE
    return (minutes.astype(np.float64),)


def _binary(op: Callable[[Series, Series], Series]) -> Compute:
    def compute(i: Mapping[str, Series], _p: Mapping[str, ParamValue], _b: Bars) -> tuple[Series, ...]:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (op(i["a"], i["b"]),)

    return compute


def _const(_i: Mapping[str, Series], p: Mapping[str, ParamValue], bars: Bars) -> tuple[Series, ...]:
    return (np.full(np.shape(bars.close)[0], float(p["value"])),)


def _held(_i: Mapping[str, Series], _p: Mapping[str, ParamValue], _b: Bars) -> tuple[Series, ...]:
    raise AssertionError("state.position is given by the compiler (one pass per position), never computed")


def _cross(up: bool) -> Compute:
    return lambda i, _p, _b: (crosses(i["a"], i["b"])[0 if up else 1],)


def _spec_list() -> tuple[NodeSpec, ...]:
    src = (n_port("in"),)
    ab = (n_port("a"), n_port("b"))
    bool_ab = (b_port("a"), b_port("b"))
    return (
        *(_field(name) for name in ("open", "high", "low", "close", "volume")),
        NodeSpec(
            "input.time_of_day",
            "minutes since UTC midnight of the bar's open",
            (),
            OUT,
            (),
            _time_of_day,
            market=True,
        ),
        *INDICATOR_NODES,
        NodeSpec(
            "const.number",
            "a constant",
            (),
            OUT,
            (ParamSpec("value", float, 0.0, -1e12, 1e12, "value"),),
            _const,
        ),
        NodeSpec("math.add", "a + b", ab, OUT, (), _binary(np.add)),
        NodeSpec("math.subtract", "a − b", ab, OUT, (), _binary(np.subtract)),
        NodeSpec("math.multiply", "a × b", ab, OUT, (), _binary(np.multiply)),
        NodeSpec(
            "math.divide",
            "a / b (NaN where b is 0)",
            ab,
            OUT,
            (),
            _binary(lambda a, b: np.where(b == 0.0, np.nan, a / b)),
        ),
        NodeSpec(
            "compare.greater",
            "a > b (false where either is NaN)",
            ab,
            (b_port("out"),),
            (),
            _binary(np.greater),
        ),
        NodeSpec("compare.greater_equal", "a ≥ b", ab, (b_port("out"),), (), _binary(np.greater_equal)),
        NodeSpec("compare.less", "a < b", ab, (b_port("out"),), (), _binary(np.less)),
        NodeSpec("compare.less_equal", "a ≤ b", ab, (b_port("out"),), (), _binary(np.less_equal)),
        NodeSpec(
            "cross.above",
            "a crosses above b (strictly, on both bars)",
            ab,
            (b_port("out"),),
            (),
            _cross(True),
        ),
        NodeSpec(
            "cross.below",
            "a crosses below b (strictly, on both bars)",
            ab,
            (b_port("out"),),
            (),
            _cross(False),
        ),
        NodeSpec(
            "window.max",
            "highest value of the last window bars",
            src,
            OUT,
            (window(20),),
            on_input(_core.rolling_max, "window"),
        ),
        NodeSpec(
            "window.min",
            "lowest value of the last window bars",
            src,
            OUT,
            (window(20),),
            on_input(_core.rolling_min, "window"),
        ),
        NodeSpec(
            "window.mean",
            "mean of the last window bars",
            src,
            OUT,
            (window(20),),
            on_input(_core.rolling_mean, "window"),
        ),
        NodeSpec(
            "window.lag",
            "the value window bars ago",
            src,
            OUT,
            (window(1),),
            on_input(kernels.lag, "window"),
        ),
        NodeSpec("logic.and", "a and b", bool_ab, (b_port("out"),), (), _binary(np.logical_and)),
        NodeSpec("logic.or", "a or b", bool_ab, (b_port("out"),), (), _binary(np.logical_or)),
        NodeSpec(
            "logic.not",
            "not in",
            (b_port("in"),),
            (b_port("out"),),
            (),
            lambda i, _p, _b: (np.logical_not(i["in"]),),
        ),
        NodeSpec(
            "state.position",
            "the position the graph's signals hold coming into the bar: 1 long, -1 short, 0 flat (stops "
            "and fills aside); only math, compare and logic nodes may follow it",
            (),
            OUT,
            (),
            _held,
            market=True,
        ),
        NodeSpec(
            "state.bars_since",
            "bars since in was last true (NaN before)",
            (b_port("in"),),
            OUT,
            (),
            lambda i, _p, _b: (kernels.bars_since(i["in"]),),
        ),
        NodeSpec("sink.enter_long", "buy (or reverse a short) on the bars where when is true", WHEN),
        NodeSpec("sink.exit_long", "close a long position where when is true", WHEN),
        NodeSpec("sink.enter_short", "sell short (or reverse a long) where when is true", WHEN),
        NodeSpec("sink.exit_short", "cover a short position where when is true", WHEN),
        NodeSpec(
            "sink.stop_loss",
            "exit at this fraction below (short: above) the entry price",
            (),
            (),
            (_fraction("fraction", 0.9999, "fraction of the entry price"),),
        ),
        NodeSpec(
            "sink.take_profit",
            "exit at this fraction above (short: below) the entry price",
            (),
            (),
            (_fraction("fraction", 9.9999, "fraction of the entry price"),),
        ),
        NodeSpec(
            "sink.trailing_stop",
            "exit at this fraction back from the best price since entry",
            (),
            (),
            (_fraction("fraction", 0.9999, "fraction of the best price"),),
        ),
        NodeSpec(
            "sink.position_size",
            "fraction of equity each entry uses",
            (),
            (),
            (ParamSpec("fraction", float, 1.0, 0.0001, 1.0, "fraction of equity"),),
        ),
    )


NODE_TYPES: dict[str, NodeSpec] = {spec.type: spec for spec in _spec_list()}
OUTPUT = "sink.output"  # only in indicator graphs: a named output (its node id is the name)
INDICATOR_NODE_TYPES: dict[str, NodeSpec] = NODE_TYPES | {
    OUTPUT: NodeSpec(OUTPUT, "an output of a user indicator, named by the node's id", (n_port("value"),))
}
SIGNAL_SINKS = ("sink.enter_long", "sink.exit_long", "sink.enter_short", "sink.exit_short")
ENTRY_SINKS = ("sink.enter_long", "sink.enter_short")
POSITION = "state.position"
AFTER_POSITION = ("math", "compare", "logic", "sink")  # element-wise: evaluated once per position
