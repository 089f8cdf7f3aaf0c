"""The per-process cache (tradeloom.shared.ttl_cache.TtlCache): one load per key, refreshed ahead of expiry
in the background while still fresh, never serving anything older than its lifetime."""

from __future__ import annotations

import asyncio

from tradeloom.shared.ttl_cache import TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Source:
    """A load whose completion the test controls."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = asyncio.Event()

    async def load(self) -> str:
        self.calls += 1
        await self.gate.wait()
        return f"v{self.calls}"


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_concurrent_misses_share_one_load() -> None:
    cache: TtlCache[str, str] = TtlCache(1.0, clock=Clock())
    source = Source()
    waiting = [asyncio.ensure_future(cache.get_or_load("k", source.load)) for _ in range(20)]
    await settle()
    source.gate.set()
    assert await asyncio.gather(*waiting) == ["v1"] * 20
    assert source.calls == 1


async def test_an_entry_near_its_end_is_served_while_one_background_load_refreshes_it() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(1.0, clock=clock)
    source = Source()
    source.gate.set()
    assert await cache.get_or_load("k", source.load) == "v1"
    clock.now += 0.5  # mid-life: no refresh
    assert await cache.get_or_load("k", source.load) == "v1"
    assert source.calls == 1
    source.gate.clear()
    clock.now += 0.3  # the last quarter of its life: served at once, refreshed behind
    served = [await cache.get_or_load("k", source.load) for _ in range(10)]
    await settle()
    assert served == ["v1"] * 10 and source.calls == 2  # one refresh, however many requests
    source.gate.set()
    await settle()
    assert await cache.get_or_load("k", source.load) == "v2"  # fresh again, without waiting


async def test_nothing_older_than_the_lifetime_is_served() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(1.0, clock=clock)
    source = Source()
    source.gate.set()
    await cache.get_or_load("k", source.load)
    source.gate.clear()
    clock.now += 1.01  # expired: the caller waits for the load
    pending = asyncio.ensure_future(cache.get_or_load("k", source.load))
    await settle()
    assert not pending.done()
    source.gate.set()
    assert await pending == "v2"


async def test_a_refresh_started_before_an_invalidation_is_not_kept() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(1.0, clock=clock)
    source = Source()
    source.gate.set()
    await cache.get_or_load("k", source.load)
    source.gate.clear()
    clock.now += 0.9
    await cache.get_or_load("k", source.load)  # starts the refresh
    cache.clear()  # e.g. the user was disabled meanwhile
    source.gate.set()
    await settle()
    assert cache.get("k") is None


async def test_a_failed_refresh_leaves_the_entry_and_is_retried() -> None:
    clock = Clock()
    cache: TtlCache[str, str] = TtlCache(1.0, clock=clock)
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise ConnectionError("database away")
        return f"v{calls}"

    await cache.get_or_load("k", flaky)
    clock.now += 0.9
    assert await cache.get_or_load("k", flaky) == "v1"  # the refresh fails in the background
    await settle()
    assert await cache.get_or_load("k", flaky) == "v1"  # still fresh; a new refresh starts
    await settle()
    assert cache.get("k") == "v3"
