"""The option chain's expiries cache (``ExpiriesCache``) on an injected clock: one market-data
``option_expiries`` request per (underlying, venue) while the reply is fresh, a new one after its
time-to-live, none kept with a time-to-live of 0 or when the request fails."""

from __future__ import annotations

from typing import Any

import pytest

from tradeloom.analytics.chain_quotes import ExpiriesCache
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

    cache = ExpiriesCache(5.0, clock)
    btc, eth = ("BTC/USDT", None), ("ETH/USDT", "sim")
    first = await cache.get(btc, fetch(btc))
    clock.now += 4.9
    assert await cache.get(btc, fetch(btc)) == first  # fresh: not asked again
    assert await cache.get(eth, fetch(eth)) != first  # another underlying: its own entry
    clock.now += 0.1  # 5 s after the first reply: stale
    assert await cache.get(btc, fetch(btc)) == {"expiries": [{"expiry": "3"}]}
    assert asked == [btc, eth, btc]

    off = ExpiriesCache(0, clock)
    await off.get(btc, fetch(btc))
    await off.get(btc, fetch(btc))
    assert asked[3:] == [btc, btc]  # 0: every request asks market-data


async def test_a_failed_request_is_not_kept() -> None:
    cache, calls = ExpiriesCache(5.0, Clock()), []

    async def failing() -> dict[str, Any]:
        calls.append(1)
        raise Unavailable("market-data is not answering")

    for _ in range(2):
        with pytest.raises(Unavailable):
            await cache.get(("BTC/USDT", None), failing)
    assert len(calls) == 2
