"""Small asyncio helpers shared by the long-running loops."""

from __future__ import annotations

import asyncio
import contextlib


async def wait_for_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep up to ``seconds``, waking early when ``stop`` is set; returns ``stop.is_set()``."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    return stop.is_set()
