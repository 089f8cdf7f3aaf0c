"""The sandbox protocol of Python user indicators, shared by strategy-runner (charts, and the
outputs a graph node may read) and backtest-engine (graph backtests): the user's module runs only
inside sandbox-executor.

The module defines ``compute(bars, params)`` (``bars`` as for a user-code strategy: numpy arrays
``open`` … ``volume`` float64, ``time`` int64 ns, oldest first) and returns a mapping of output
name → numbers, one per bar (NaN or None: no value). The footer below is appended (the user's line
numbers are unchanged, so an error names the user's line) and answers every output as a list.
Pure (a domain may import it); ``user_indicator_client.sandbox_outputs`` runs it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

MAX_OUTPUTS = 6  # 6 × 5,000 values and the bar times stay well under NATS's 1 MiB reply
OUTPUT_NAME = re.compile(r"[A-Za-z_]\w{0,31}")

_FOOTER = """

def __tl_outputs__():
    import math as __math
    import numpy as __np
    __bars = {k: __np.asarray(v, dtype=__np.float64) for k, v in input_data["bars"].items()}
    __bars["time"] = __np.asarray(input_data["bars"]["time"], dtype=__np.int64)
    __n = len(__bars["close"])
    __out = compute(__bars, dict(input_data["params"]))
    if not hasattr(__out, "keys"):
        raise TypeError(f"compute returned {type(__out).__name__}, not a mapping of output name to values")
    __found = {}
    for __name in list(__out.keys()):
        __values = __np.asarray(__out[__name], dtype=__np.float64).reshape(-1)
        if len(__values) != __n:
            raise ValueError(f"compute returned {len(__values)} values of {__name} for {__n} bars")
        __found[str(__name)] = [float(v) if __math.isfinite(v) else None for v in __values.tolist()]
    return __found


result = __tl_outputs__()
"""


class IndicatorFailed(Exception):
    """The indicator's answer is not usable; the message says why."""


def indicator_program(code: str) -> str:
    """The user's code with the footer that calls ``compute`` and answers every output as a list."""
    return code.rstrip("\n") + "\n" + _FOOTER


def checked_outputs(count: int, found: object) -> dict[str, list[float | None]]:
    """The program's answer checked: at most ``MAX_OUTPUTS`` named outputs of ``count`` values."""
    if not isinstance(found, Mapping) or not found:
        raise IndicatorFailed("compute returned no outputs")
    if len(found) > MAX_OUTPUTS:
        raise IndicatorFailed(f"compute returned {len(found)} outputs; at most {MAX_OUTPUTS}")
    outputs: dict[str, list[float | None]] = {}
    for name, values in found.items():
        if not isinstance(name, str) or not OUTPUT_NAME.fullmatch(name):
            raise IndicatorFailed(f"output {name!r}: a name is letters, digits and _ (at most 32)")
        if not isinstance(values, list) or len(values) != count:
            raise IndicatorFailed(f"output {name}: not {count} values")
        if not all(v is None or (isinstance(v, int | float) and math.isfinite(v)) for v in values):
            raise IndicatorFailed(f"output {name}: values must be numbers or null")
        outputs[name] = [None if v is None else float(v) for v in values]
    return outputs
