"""User indicators: the source of one in Python checked without running it, the sandbox's program
around it and its answer checked; a graph one's outputs over bars.

Pure: no NATS, SQL or HTTP. The user's module defines ``compute(bars, params)`` (``bars`` as for a
user-code strategy: numpy arrays ``open`` … ``volume`` float64, ``time`` int64 ns, oldest first)
and returns a mapping of output name → numbers, one per bar (NaN or None: no value). The source is
only *parsed* here (``ast.parse`` executes nothing); it runs only in sandbox-executor, with the
footer of ``tradeloom.shared.user_indicator_code`` appended (an error names the user's line).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from tradeloom.quant.graph import CompiledIndicator
from tradeloom.quant.simulator import Bars
from tradeloom.quant.types import FloatArray, IntArray
from tradeloom.strategy_runner.domain.user_code import check_code

ENTRY_POINT = "compute"


def check_indicator_code(code: str) -> None:
    """Refuse source that is too large, does not parse, or lacks ``compute(bars, params)``
    (``CodeRefused`` with the parser's line and column)."""
    check_code(code, ENTRY_POINT)


def graph_outputs(
    plan: CompiledIndicator, columns: Mapping[str, FloatArray], open_ns: IntArray
) -> dict[str, list[float | None]]:
    """A graph indicator's outputs over the bars (compiled kernels, in this process: a graph is
    data, not code), NaN as ``None``."""
    bars = Bars(
        columns["open"], columns["high"], columns["low"], columns["close"], columns["volume"], open_ns
    )
    return {
        name: [float(v) if math.isfinite(v) else None for v in values.tolist()]
        for name, values in plan.series(bars).items()
    }


PROBE_BARS = 300
_MINUTE_NS = 60_000_000_000
_PROBE_START_NS = 1_704_067_200 * 1_000_000_000  # 2024-01-01 UTC


def probe_columns(count: int = PROBE_BARS) -> dict[str, list[float] | list[int]]:
    """Deterministic one-minute bars (a gentle wave around 100) a Python indicator runs over once
    when a graph using it is validated or saved, to learn its output names (its ``compute`` decides
    them only when it runs)."""
    close = [100.0 + 5.0 * math.sin(i / 15.0) + 0.01 * i for i in range(count)]
    opens = [close[0], *close[:-1]]
    return {
        "open": opens,
        "high": [max(o, c) + 0.5 for o, c in zip(opens, close, strict=True)],
        "low": [min(o, c) - 0.5 for o, c in zip(opens, close, strict=True)],
        "close": close,
        "volume": [1_000.0 + (i % 7) * 10.0 for i in range(count)],
        "time": [_PROBE_START_NS + i * _MINUTE_NS for i in range(count)],
    }
