"""The option chain's expiries cache (``expiries_cache``, a shared ``TtlCache``) on an injected
clock: one market-data ``option_expiries`` request per (underlying, venue) while the reply is
fresh, a new one after its time-to-live, none kept with a time-to-live of 0 or when the request
fails, and a reply refreshed in the background in the second half of its life."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tradeloom.analytics.chain_quotes import expiries_cache
from tradeloom.shared.errors import Unavailable


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_reply_is_kept_for_its_time_to_live_per_underlying_and_venue() -> None:
    clock, asked = Clock(), []

    def fetch(key: tuple[str, str | None]) -> Any:
        async def call() -> dict[str, Any]:
            asked.append(key)
            return {"expiries": [{"expiry": f"{len(asked)}"}]}

        return call

    cache = expiries_cache(5.0, clock)
    btc, eth = ("BTC/USDT", None), ("ETH/USDT", "sim")
    first = await cache.get_or_load(btc, fetch(btc))
    clock.now += 2.4
    assert await cache.get_or_load(btc, fetch(btc)) == first  # fresh: not asked again
    assert await cache.get_or_load(eth, fetch(eth)) != first  # another underlying: its own entry
    clock.now += 2.6  # 5 s after the first reply: stale, asked at once
    assert await cache.get_or_load(btc, fetch(btc)) == {"expiries": [{"expiry": "3"}]}
    assert asked == [btc, eth, btc]

    off = expiries_cache(0, clock)
    await off.get_or_load(btc, fetch(btc))
    await off.get_or_load(btc, fetch(btc))
    assert asked[3:] == [btc, btc]  # 0: every request asks market-data


async def test_a_reply_is_refreshed_ahead_in_the_second_half_of_its_life() -> None:
    """A request after half the time-to-live gets the kept reply at once and starts one background
    request (one, however many chains ask meanwhile); its answer serves the next requests. A failed
    refresh leaves the kept reply to expire, then the request asks itself."""
    clock, asked, fail = Clock(), [], [False]

    async def fetch() -> dict[str, Any]:
        asked.append(clock.now)
        await asyncio.sleep(0)
        if fail[0]:
            raise Unavailable("market-data is not answering")
        return {"n": len(asked)}

    cache = expiries_cache(5.0, clock)
    key = ("BTC/USDT", None)
    assert await cache.get_or_load(key, fetch) == {"n": 1}
    clock.now += 2.6
    assert [await cache.get_or_load(key, fetch) for _ in range(3)] == [{"n": 1}] * 3  # at once, the kept one
    for _ in range(3):
        await asyncio.sleep(0)  # the one background refresh runs
    assert len(asked) == 2
    clock.now = 105.0  # the first reply would be stale by now; the refreshed one (to 107.6) is not
    assert await cache.get_or_load(key, fetch) == {"n": 2}
    fail[0] = True
    clock.now = 106.0  # second half of the refreshed reply's life: a refresh that fails
    assert await cache.get_or_load(key, fetch) == {"n": 2}
    for _ in range(3):
        await asyncio.sleep(0)
    assert len(asked) == 3
    clock.now = 107.7  # expired: the request asks itself, and its error is the caller's
    with pytest.raises(Unavailable):
        await cache.get_or_load(key, fetch)
    assert len(asked) == 4


async def test_a_failed_request_is_not_kept() -> None:
    cache, calls = expiries_cache(5.0, Clock()), []

    async def failing() -> dict[str, Any]:
        calls.append(1)
        raise Unavailable("market-data is not answering")

    for _ in range(2):
        with pytest.raises(Unavailable):
            await cache.get_or_load(("BTC/USDT", None), failing)
    assert len(calls) == 2
