"""The service process freezes its heap once after start-up, unless it is stopping."""

from __future__ import annotations

import asyncio
import gc

import pytest

from tradeloom.risk_monitor import heap


async def test_the_heap_is_frozen_after_start_up_and_not_when_stopping(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(heap, "FREEZE_AFTER_S", 0.0)
    frozen = gc.get_freeze_count()
    stop = asyncio.Event()
    stop.set()
    await heap.freeze_heap(stop)
    assert gc.get_freeze_count() == frozen
    try:
        await heap.freeze_heap(asyncio.Event())
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
