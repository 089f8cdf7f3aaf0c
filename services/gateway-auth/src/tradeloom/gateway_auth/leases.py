"""Rate limits without a database round trip per request: each replica leases tokens in batches.

The buckets live in Postgres (``store.limits``) so that limits hold across replicas. Taking one
token per request there made every request of a user (or IP) queue on the same row lock. Instead a
replica takes a *lease*: ``spec.lease_size(share)`` tokens (``share`` of the burst, at least 1)
deducted from the shared row at once, spent locally, valid for ``lease_s``. When a lease is spent
or ends, the next statement gives its unused tokens back and takes a new batch.

Guarantee: no overshoot. Every token a request spends was deducted from the shared bucket first,
so across any number of replicas a bucket never admits more than its capacity plus its refill.
The price is bounded *under*-admission: up to ``replicas × lease_size`` tokens may sit unused in
other replicas' leases for at most ``lease_s`` (then they return with that replica's next lease
of the bucket; a replica that never touches the bucket again strands at most one lease, refilled
by the bucket's own rate). Buckets smaller than ``1 / share`` lease one token at a time: exact.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from tradeloom.gateway_auth.domain.ratelimit import BucketSpec
from tradeloom.gateway_auth.store.limits import Denied, LimitStore

LOCK_STRIPES = 64
MAX_LEASES = 50_000
MAX_ATTEMPTS = 4


@dataclass
class Lease:
    tokens: float
    ends_at: float


class LeasedLimiter:
    def __init__(self, store: LimitStore, share: float, lease_s: float) -> None:
        self.store = store
        self.share = share
        self.lease_s = lease_s
        self._leases: dict[str, Lease] = {}
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]
        self.renewals = 0  # statements sent (for tests and the benchmark)

    def _usable(self, key: str, cost: float, now: float) -> bool:
        lease = self._leases.get(key)
        return lease is not None and lease.ends_at > now and lease.tokens >= cost

    async def take(self, wanted: list[tuple[BucketSpec, str]], cost: float = 1.0) -> Denied | None:
        """Spend ``cost`` from each ``(spec, subject)`` bucket, or the longest denial."""
        specs = {spec.key(subject): spec for spec, subject in wanted}
        for _ in range(MAX_ATTEMPTS):
            now = time.monotonic()
            short = [key for key in specs if not self._usable(key, cost, now)]
            if not short:
                for key in specs:  # no await between the check and the spend: atomic in this loop
                    self._leases[key].tokens -= cost
                return None
            denied = await self._renew({key: specs[key] for key in short}, cost)
            if denied is not None:
                return denied
        return Denied(next(iter(specs)), 1)  # only under extreme contention inside one replica

    def give_back(self, wanted: list[tuple[BucketSpec, str]], cost: float = 1.0) -> None:
        """Return ``cost`` a request took but did not use (refused as invalid after the take): to
        this replica's lease, and with it to the shared bucket at its next renewal. A lease already
        forgotten loses it (bounded under-admission, as for any stranded lease)."""
        for spec, subject in wanted:
            lease = self._leases.get(spec.key(subject))
            if lease is not None:
                lease.tokens += cost

    async def _renew(self, specs: dict[str, BucketSpec], cost: float) -> Denied | None:
        stripes = sorted({hash(key) % LOCK_STRIPES for key in specs})
        for stripe in stripes:  # a fixed order: concurrent renewals never deadlock
            await self._locks[stripe].acquire()
        try:
            now = time.monotonic()
            short = [key for key in specs if not self._usable(key, cost, now)]
            if not short:
                return None  # another request renewed them while this one waited
            asks = []
            for key in short:
                lease = self._leases.pop(key, None)
                returned = max(0.0, lease.tokens) if lease is not None else 0.0
                asks.append((specs[key], key, specs[key].lease_size(self.share), returned))
            self.renewals += 1
            granted, denied = await self.store.lease(asks, cost)
            ends_at = time.monotonic() + self.lease_s
            if len(self._leases) > MAX_LEASES:
                self._forget_ended(time.monotonic())
            for key, tokens in granted.items():
                self._leases[key] = Lease(tokens, ends_at)
            return denied
        finally:
            for stripe in stripes:
                self._locks[stripe].release()

    def _forget_ended(self, now: float) -> None:
        """Drop ended leases (their few unused tokens refill on the bucket's own rate)."""
        for key in [key for key, lease in self._leases.items() if lease.ends_at <= now]:
            del self._leases[key]
