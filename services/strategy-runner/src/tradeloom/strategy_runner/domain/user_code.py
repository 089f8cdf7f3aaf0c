"""User-code strategies: the source checked without running it, and the sandbox's program around it.

Pure: no NATS, SQL or HTTP. The user's module must define ``generate_signals(bars, params)``:
``bars`` is a dict of numpy arrays (``open``, ``high``, ``low``, ``close``, ``volume`` as float64,
``time`` as int64 nanoseconds, oldest first), ``params`` the version's parameters; it returns a
mapping (a dict or a pandas DataFrame) with any of ``entry_long``, ``exit_long``, ``entry_short``,
``exit_short``, each a boolean sequence as long as the bars (a missing one is all false). The code
is only *parsed* here (``ast.parse`` executes nothing); it runs only inside sandbox-executor, as
``tradeloom.shared.user_code`` wraps it, which answers the indices where each signal is true.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tradeloom.shared.user_code import FILENAME, SIGNALS

MAX_CODE_BYTES = 65_536
ENTRY_POINT = "generate_signals"


@dataclass(frozen=True)
class CodeRefused(ValueError):
    """Why the source cannot be saved; ``line``/``column`` where the parser stopped (1-based)."""

    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


def check_code(code: str, entry_point: str = ENTRY_POINT) -> None:
    """Refuse source that is too large, does not parse, or lacks ``<entry_point>(bars, params)``
    (``generate_signals`` for a strategy, ``compute`` for a user indicator)."""
    if not code.strip():
        raise CodeRefused("the code is empty")
    size = len(code.encode())
    if size > MAX_CODE_BYTES:
        raise CodeRefused(f"the code is {size} bytes; at most {MAX_CODE_BYTES}")
    try:
        tree = ast.parse(code, filename=FILENAME)
    except SyntaxError as error:
        raise CodeRefused(f"syntax error: {error.msg}", error.lineno, error.offset) from None
    except ValueError as error:  # NUL bytes
        raise CodeRefused(f"syntax error: {error}") from None
    except (RecursionError, MemoryError):  # the parser's own limits: thousands of nested levels
        raise CodeRefused("the code nests too deeply to parse") from None
    entry = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)
    if entry is None:
        raise CodeRefused(f"define a top-level function {entry_point}(bars, params)", 1, 1)
    arguments = entry.args.posonlyargs + entry.args.args
    if len(arguments) != 2 and entry.args.vararg is None:
        raise CodeRefused(
            f"{entry_point} must take two arguments: (bars, params)", entry.lineno, entry.col_offset + 1
        )


def check_code_params(params: Mapping[str, Any]) -> dict[str, int | float | bool]:
    """The parameters handed to the code: names of letters, digits and _, values numbers or booleans."""
    checked: dict[str, int | float | bool] = {}
    for name, value in params.items():
        if not re.fullmatch(r"[A-Za-z_]\w{0,63}", name):
            raise CodeRefused(f"params.{name}: a parameter name is letters, digits and _")
        if not isinstance(value, int | float | bool):
            raise CodeRefused(f"params.{name}: a number or a boolean")
        checked[name] = value
    return checked


def bar_columns(bars: Sequence[Any]) -> dict[str, list[float] | list[int]]:
    """The sandbox's bar columns from bars (objects with open_ns, open… volume), oldest first."""
    columns: dict[str, list[float] | list[int]] = {
        name: [float(getattr(bar, name)) for bar in bars]
        for name in ("open", "high", "low", "close", "volume")
    }
    columns["time"] = [int(bar.open_ns) for bar in bars]
    return columns


def signal_names(count: int, found: Mapping[str, list[int]]) -> list[str]:
    """The signal of each of ``count`` bars from the checked indices of each signal (entry_long
    wins over the exits on one bar, as for built-ins)."""
    names = ["none"] * count
    for name in reversed(SIGNALS):
        for index in found.get(name, []):
            names[index] = name
    return names
