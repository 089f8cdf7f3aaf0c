"""Every service process runs on uvloop when it is installed, unless TL_EVENT_LOOP=asyncio."""

import asyncio
import gc

import pytest
import uvloop

from tradeloom.shared.aio import event_loop_factory, freeze_startup_heap, run_main


async def loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_uvloop_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TL_EVENT_LOOP", raising=False)
    assert event_loop_factory() is uvloop.new_event_loop
    assert run_main(loop_type()) is uvloop.Loop


def test_the_standard_loop_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_EVENT_LOOP", "asyncio")
    assert event_loop_factory() is None
    assert not issubclass(run_main(loop_type()), uvloop.Loop)


def test_freezing_moves_live_objects_out_of_collections() -> None:
    try:
        freeze_startup_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
