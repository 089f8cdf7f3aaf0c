"""Leases renewed ahead (leases.LeasedLimiter): a busy bucket's lease is renewed in the background
near its end while requests spend a reserve, with every token still deducted first (no overshoot);
small, exact buckets are never renewed ahead."""

from __future__ import annotations

import asyncio
from typing import Any

from tradeloom.gateway_auth.domain.ratelimit import BucketSpec
from tradeloom.gateway_auth.leases import LeasedLimiter
from tradeloom.gateway_auth.store.limits import Denied

KEY = BucketSpec("user", 1, 1).key("u1")


class Clock:
    def __init__(self) -> None:
        self.now = 10.0

    def __call__(self) -> float:
        return self.now


class FakeStore:
    """One shared bucket per key without refill; ``gate`` holds statements until the test opens it."""

    def __init__(self, capacity: float) -> None:
        self.tokens: dict[str, float] = {}
        self.capacity = capacity
        self.statements = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def lease(
        self, wanted: list[tuple[BucketSpec, str, float, float]], cost: float = 1.0
    ) -> tuple[dict[str, float], Denied | None]:
        self.statements += 1
        await self.gate.wait()
        granted: dict[str, float] = {}
        for _, key, size, returned in wanted:
            available = self.tokens.get(key, self.capacity) + returned
            grant = min(size, available) if available >= cost else 0.0
            self.tokens[key] = available - grant
            if grant:
                granted[key] = grant
        return granted, None if len(granted) == len(wanted) else Denied(wanted[0][1], 1)


def limiter(capacity: float) -> tuple[LeasedLimiter, FakeStore, Clock, list[tuple[BucketSpec, str]]]:
    store, clock = FakeStore(capacity), Clock()
    spec = BucketSpec("user", capacity, 0.0)
    fake: Any = store
    return LeasedLimiter(fake, share=0.1, lease_s=1.0, clock=clock), store, clock, [(spec, "u1")]


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_busy_lease_is_renewed_ahead_and_requests_never_wait_for_it() -> None:
    leases, store, clock, wanted = limiter(1000)  # batches of 100
    assert await leases.take(wanted) is None
    assert store.statements == 1 and store.tokens[KEY] == 900
    clock.now += 0.8  # the last quarter of the lease's life
    store.gate.clear()  # the renewal's statement hangs: requests go on from the reserve
    for _ in range(20):
        assert await leases.take(wanted) is None
    await settle()
    assert store.statements == 2  # one renewal ahead, not one per request
    assert store.tokens[KEY] == 900  # the statement has not run yet
    store.gate.set()
    await settle()
    # 98 left after the request that started it: 25 stayed as the reserve, 73 went back, 100 taken
    assert store.tokens[KEY] == 900 + 73 - 100
    clock.now += 0.9  # the renewed lease lives a full lease_s from its renewal
    assert await leases.take(wanted) is None
    await settle()
    assert store.statements == 3  # ...and is renewed ahead again, in the background
    held = leases._leases[KEY].tokens
    spent = 1 + 20 + 1
    assert store.tokens[KEY] + held + spent == 1000  # every token accounted for: no overshoot


async def test_small_exact_buckets_are_not_renewed_ahead() -> None:
    leases, store, clock, wanted = limiter(30)  # batches of 3: below the renew-ahead size
    assert await leases.take(wanted) is None
    clock.now += 0.8
    assert await leases.take(wanted) is None
    await settle()
    assert store.statements == 1
