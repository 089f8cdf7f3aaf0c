"""GroupCommit: callers queued during a write share the next one; each waits for its own row."""

from __future__ import annotations

import asyncio

import pytest

from tradeloom.shared.group_commit import GroupCommit


class Sink:
    def __init__(self, fail_on: str | None = None) -> None:
        self.writes: list[list[str]] = []
        self.fail_on = fail_on
        self.gate = asyncio.Event()
        self.gate.set()

    async def write(self, rows: list[str]) -> None:
        await self.gate.wait()
        await asyncio.sleep(0)
        if self.fail_on in rows:
            raise RuntimeError(f"cannot write {self.fail_on}")
        self.writes.append(rows)


async def test_one_caller_at_a_time_writes_alone() -> None:
    sink = Sink()
    group = GroupCommit(sink.write)
    await group.record("a")
    await group.record("b")
    assert sink.writes == [["a"], ["b"]]


async def test_callers_queued_during_a_write_share_the_next_one() -> None:
    sink = Sink()
    group = GroupCommit(sink.write, max_batch=3)
    sink.gate.clear()
    first = asyncio.create_task(group.record("a"))
    await asyncio.sleep(0)  # "a" is being written (held at the gate)
    rest = [asyncio.create_task(group.record(x)) for x in "bcdef"]
    await asyncio.sleep(0)
    assert not first.done() and not any(task.done() for task in rest)  # nobody answered before the write
    sink.gate.set()
    await asyncio.gather(first, *rest)
    assert sink.writes == [["a"], ["b", "c", "d"], ["e", "f"]]


async def test_a_failed_write_fails_its_callers_only() -> None:
    sink = Sink(fail_on="bad")
    group = GroupCommit(sink.write)
    sink.gate.clear()
    first = asyncio.create_task(group.record("a"))
    await asyncio.sleep(0)
    batch = [asyncio.create_task(group.record(x)) for x in ("bad", "c")]
    sink.gate.set()
    await first
    for task in batch:
        with pytest.raises(RuntimeError, match="cannot write bad"):
            await task
    await group.record("d")  # the writer goes on after a failure
    assert sink.writes == [["a"], ["d"]]


async def test_a_cancelled_caller_s_row_is_still_written() -> None:
    sink = Sink()
    group = GroupCommit(sink.write)
    sink.gate.clear()
    caller = asyncio.create_task(group.record("a"))
    await asyncio.sleep(0)
    caller.cancel()
    sink.gate.set()
    await asyncio.sleep(0.01)
    assert sink.writes == [["a"]]


async def test_a_cancelled_writer_leaves_no_caller_waiting() -> None:
    sink = Sink()
    group = GroupCommit(sink.write)
    sink.gate.clear()
    callers = [asyncio.create_task(group.record(x)) for x in "ab"]
    await asyncio.sleep(0)
    assert group._writer is not None
    group._writer.cancel()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
