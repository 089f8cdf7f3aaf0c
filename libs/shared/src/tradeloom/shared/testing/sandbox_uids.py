"""Sandbox uid ranges for tests that run in parallel pytest workers (pytest-xdist).

Each sandbox-executor a test starts runs user code under uids ``uid_base .. uid_base + slots - 1`` and
kills whatever still runs under them when a run ends. Two workers running executors on the same range
would reap each other's runs, so every worker shifts the range its tests chose by a worker stride.
The ranges the tests choose are 1,000 apart and the stride is 500 (at most 64 slots), so no two
ranges meet on up to two workers, nor on more while the chosen bases stay 1,000 × workers apart.
"""

from __future__ import annotations

import os

WORKER_STRIDE = 500
DEFAULT_SERVICE_BASE = 200_000  # the service's own default, used by the whole-stack tests


def worker_index() -> int:
    """This pytest worker's index (``gw3`` → 3); 0 outside pytest-xdist."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    digits = name.removeprefix("gw")
    return int(digits) if digits.isdigit() else 0


def uid_base(base: int = DEFAULT_SERVICE_BASE) -> int:
    """``base`` moved into this worker's share, so parallel workers never share a sandbox uid."""
    return base + WORKER_STRIDE * worker_index()
