"""The sandbox protocol of user-code strategies, shared by strategy-runner (bots) and
backtest-engine (backtests): the user's module runs only inside sandbox-executor.

The module defines ``generate_signals(bars, params)`` (see strategy-runner's README); the footer
appended here calls it on ``input_data`` (the bars as columns) and sets ``result`` to the indices of
the bars where each signal is true, which keeps the reply small. Appending keeps the user's line
numbers, so an error names the user's own line (``error_line``). Pure (a domain may import it);
``user_code_client.sandbox_signals`` runs it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

SIGNALS = ("entry_long", "exit_long", "entry_short", "exit_short")  # precedence on one bar
COLUMNS = ("open", "high", "low", "close", "volume", "time")
FILENAME = "<user_code>"  # sandbox-executor's name for the code in tracebacks
SANDBOX = "sandbox-executor"
MAX_BARS = 10_000  # the bars travel in one NATS request (1 MiB): ~75 bytes a bar as JSON
# the code's own doing: retrying the same bars would fail the same way
USER_FAULTS = frozenset(
    {"time_limit", "memory_limit", "syntax_error", "code_too_large", "validation_error", "quota_exceeded"}
)

_FOOTER = """

def __tl_signals__():
    import numpy as __np
    __bars = {k: __np.asarray(v, dtype=__np.float64) for k, v in input_data["bars"].items()}
    __bars["time"] = __np.asarray(input_data["bars"]["time"], dtype=__np.int64)
    __n = len(__bars["close"])
    __out = generate_signals(__bars, dict(input_data["params"]))
    __found = {}
    for __name in ("entry_long", "exit_long", "entry_short", "exit_short"):
        if __out is None or __name not in __out:
            continue
        __series = __np.asarray(__out[__name]).astype(bool).reshape(-1)
        if len(__series) != __n:
            raise ValueError(
                f"generate_signals returned {len(__series)} values of {__name} for {__n} bars"
            )
        __found[__name] = [int(i) for i in __np.flatnonzero(__series)]
    return __found


result = __tl_signals__()
"""


class UserCodeFailed(Exception):
    """The user's code could not give signals; the message says why (and at which line)."""


@dataclass(frozen=True)
class SandboxLimits:
    time_limit_s: float
    memory_mb: int


def signals_program(code: str) -> str:
    """The user's code with the footer that calls it (the user's line numbers are unchanged)."""
    return code.rstrip("\n") + "\n" + _FOOTER


def signal_indices(count: int, found: object) -> dict[str, list[int]]:
    """The program's answer checked: for each signal, indices of bars in ``range(count)``."""
    if not isinstance(found, Mapping):
        raise UserCodeFailed("user code gave bad signals: not a mapping")
    checked: dict[str, list[int]] = {}
    for name in SIGNALS:
        indices = found.get(name, [])
        if not isinstance(indices, list) or not all(isinstance(i, int) and 0 <= i < count for i in indices):
            raise UserCodeFailed(f"user code gave bad signals: {name} has bar indices out of range")
        checked[name] = indices
    return checked


def error_line(traceback: str, code: str) -> int | None:
    """The last line of the user's own code in a sandbox traceback (not the footer's)."""
    last = len(code.rstrip("\n").splitlines())
    lines = [int(n) for n in re.findall(rf'File "{re.escape(FILENAME)}", line (\d+)', traceback)]
    inside = [n for n in lines if n <= last]
    return inside[-1] if inside else None
