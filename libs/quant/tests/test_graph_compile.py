"""Compiled graphs give the built-ins' signals and trades; graph kernels equal their references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from graph_testkit import GraphBuilder, sma_cross_graph, valid_graphs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quant_testkit import Bars as TestBars
from quant_testkit import bars_with_warmup, random_walk_bars

from tradeloom.quant.graph import Graph, GraphInvalid, compile_graph, kernels
from tradeloom.quant.reference import graph as ref
from tradeloom.quant.simulator import Bars, Signals, run_simulation
from tradeloom.quant.strategies import signals as builtin

EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOUR = 3_600 * 10**9


def _bars(b: TestBars) -> Bars:
    return Bars(b.open, b.high, b.low, b.close, b.volume, np.arange(len(b.close), dtype=np.int64) * HOUR)


@EXAMPLES
@given(bars_with_warmup(max_len=80), st.integers(1, 8), st.integers(1, 8), st.booleans())
def test_sma_cross_graph_signals_equal_the_builtin(
    bars: TestBars, fast: int, extra: int, short: bool
) -> None:
    expected = builtin.sma_cross(bars.close, fast, fast + extra, short)
    for fused in (True, False):  # unfused: two sma kernels and crosses, the same arithmetic
        compiled = compile_graph(sma_cross_graph(fast, fast + extra, allow_short=short), fused=fused)
        got = compiled.signals(_bars(bars))
        for a, e in zip(got[:4], expected[:4], strict=True):
            np.testing.assert_array_equal(a, e)
        assert got[4].shape == (0,)


@EXAMPLES
@given(valid_graphs(), bars_with_warmup(max_len=60), st.integers(1, 6), st.integers(1, 6))
def test_fusion_changes_nothing(graph: Graph, bars: TestBars, fast: int, slow: int) -> None:
    g = GraphBuilder(list(graph.nodes), list(graph.edges))
    series = g.out("input.high")
    f = g.out("indicator.sma", {"in": series}, window=fast)
    s = g.out("indicator.sma", {"in": series}, window=slow)
    below = g.out("cross.below", {"a": f, "b": s})
    above = g.out("cross.above", {"a": f, "b": s})
    readers = g.out("logic.and", {"a": below, "b": g.out("compare.greater", {"a": f, "b": s})})
    g.add("sink.enter_short", {"when": g.out("logic.or", {"a": readers, "b": above})})
    plain, fused = compile_graph(g.graph(), fused=False), compile_graph(g.graph())
    assert any(step.spec.type == "fused.sma_cross" for step in fused.steps)
    for a, e in zip(fused.signals(_bars(bars))[:4], plain.signals(_bars(bars))[:4], strict=True):
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("short", [False, True])
def test_sma_cross_graph_trades_equal_the_builtin(short: bool) -> None:
    b = random_walk_bars(5_000, seed=7)
    bars = _bars(b)
    compiled = compile_graph(sma_cross_graph(10, 30, allow_short=short), fused=False)
    from_graph = run_simulation(bars, _signals(compiled.signals(bars)))
    from_builtin = run_simulation(bars, _signals(builtin.sma_cross(b.close, 10, 30, short)))
    assert len(from_graph.trades) > 20
    np.testing.assert_array_equal(from_graph.trades.table, from_builtin.trades.table)
    np.testing.assert_array_equal(from_graph.equity, from_builtin.equity)


def _signals(arrays: tuple[np.ndarray, ...]) -> Signals:
    return Signals(*arrays)


def test_every_node_kind_computes_what_it_says() -> None:
    g = GraphBuilder()
    close = g.out("input.close")
    three = g.out("const.number", value=3.0)
    total = g.out("math.add", {"a": close, "b": three})
    ratio = g.out("math.divide", {"a": total, "b": g.out("math.subtract", {"a": close, "b": close})})
    above = g.out("compare.greater", {"a": close, "b": g.out("window.lag", {"in": close}, window=1)})
    since = g.out("state.bars_since", {"in": above})
    high_enough = g.out(
        "compare.greater_equal", {"a": g.out("window.max", {"in": close}, window=2), "b": three}
    )
    minute = g.out("input.time_of_day")
    late = g.out("compare.greater_equal", {"a": minute, "b": g.out("const.number", value=120.0)})
    enter = g.out("logic.and", {"a": above, "b": g.out("logic.not", {"in": late})})
    g.add("sink.enter_long", {"when": enter})
    g.add("sink.exit_long", {"when": g.out("compare.greater_equal", {"a": since, "b": three})})
    g.add("sink.exit_short", {"when": g.out("logic.or", {"a": high_enough, "b": g.out("compare.less",
          {"a": ratio, "b": three})})})  # fmt: skip
    g.add("sink.stop_loss", fraction=0.02)
    g.add("sink.position_size", fraction=0.5)
    close_values = np.array([1.0, 2.0, 3.0, 2.0, 2.0, 2.0, 2.0])
    minutes = np.arange(7, dtype=np.int64) * 30 * 60 * 10**9
    bars = Bars(close_values, close_values, close_values, close_values, close_values, minutes)
    compiled = compile_graph(g.graph())
    el, xl, es, xs, level = compiled.signals(bars)
    assert el.tolist() == [False, True, True, False, False, False, False]  # rising, before 02:00
    assert xl.tolist() == [False, False, False, False, False, True, True]  # 3+ bars after the last rise
    assert xs.tolist() == [
        False,
        False,
        True,
        True,
        False,
        False,
        False,
    ]  # max of 2 ≥ 3 (ratio NaN: never < 3)
    assert not es.any() and level.shape == (0,)
    assert compiled.settings.stop_loss == 0.02 and compiled.settings.position_size == 0.5
    assert math.isnan(compiled.settings.take_profit) and not compiled.allows_short


def test_time_of_day_needs_bar_times_and_invalid_graphs_do_not_compile() -> None:
    g = GraphBuilder()
    minute = g.out("input.time_of_day")
    g.add("sink.enter_long", {"when": g.out("compare.greater", {"a": minute, "b": minute})})
    closes = np.ones(3)
    with pytest.raises(ValueError, match=r"^time:"):
        compile_graph(g.graph()).signals(Bars(closes, closes, closes, closes, closes))
    with pytest.raises(GraphInvalid):
        compile_graph(Graph((), ()))


@EXAMPLES
@given(valid_graphs(), bars_with_warmup(max_len=60))
def test_random_valid_graphs_compile_and_run(graph: Graph, bars: TestBars) -> None:
    signals = compile_graph(graph).signals(_bars(bars))
    for flags in signals[:4]:
        assert flags.dtype == np.bool_ and flags.shape == bars.close.shape


@EXAMPLES
@given(st.lists(st.booleans(), max_size=60), st.lists(st.floats(-1e6, 1e6) | st.just(math.nan), max_size=60),
       st.integers(0, 10))  # fmt: skip
def test_graph_kernels_equal_their_references(flags: list[bool], values: list[float], bars: int) -> None:
    condition = np.array(flags, dtype=np.bool_)
    np.testing.assert_array_equal(kernels.bars_since(condition), ref.bars_since(condition))
    x = np.array(values, dtype=np.float64)
    np.testing.assert_array_equal(kernels.lag(x, bars), ref.lag(x, bars))
