"""Small helpers shared by the test server wrappers (log tails, bounded polling)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


class TestServerError(RuntimeError):
    """A test server (NATS or Postgres) could not be found, started or stopped."""

    __test__ = False  # not a pytest test class despite the name


def log_tail(path: Path | None, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file, or a note when there is none."""
    if path is None or not path.exists():
        return "(no log file)"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(log file {path} unreadable: {exc})"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log file is empty)"


def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,
    interval: float = 0.05,
    abort: Callable[[], str | None] | None = None,
) -> str | None:
    """Poll ``condition`` until it is true or ``timeout`` seconds pass.

    ``abort`` is called between polls; when it returns a message polling stops early. Returns
    ``None`` on success, otherwise a short reason (the abort message or ``"timed out"``).
    """
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return None
        if abort is not None:
            reason = abort()
            if reason is not None:
                return reason
        if time.monotonic() >= deadline:
            return f"timed out after {timeout:.1f}s"
        time.sleep(interval)
