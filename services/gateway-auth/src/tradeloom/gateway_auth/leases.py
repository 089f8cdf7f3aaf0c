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

Renewal ahead: a lease of at least ``AHEAD_MIN_SIZE`` tokens used in the last ``AHEAD`` of its life
is renewed in the background while requests go on spending a reserve of it (a quarter of a
batch): the rest of it goes back in the same statement that takes the next batch, which is then
added to the reserve. Without it, every request of a busy user waited for that statement each
time its lease ended (once a second): a periodic stall. Still no overshoot (the reserve was
deducted from the shared bucket); a replica holds at most 1.25 batches of a bucket. Small, exact
buckets (login, orders) are never renewed ahead.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from tradeloom.gateway_auth.domain.ratelimit import BucketSpec
from tradeloom.gateway_auth.store.limits import Denied, LimitStore

LOCK_STRIPES = 64
MAX_LEASES = 50_000
MAX_ATTEMPTS = 4
AHEAD = 0.25
AHEAD_MIN_SIZE = 4.0


@dataclass
class Lease:
    tokens: float
    ends_at: float


class LeasedLimiter:
    def __init__(
        self, store: LimitStore, share: float, lease_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.clock = clock
        self.store = store
        self.share = share
        self.lease_s = lease_s
        self._leases: dict[str, Lease] = {}
        self._locks = [asyncio.Lock() for _ in range(LOCK_STRIPES)]
        self._ahead: set[asyncio.Task[None]] = set()  # renewals ahead in flight
        self._renewing_ahead: set[str] = set()
        self.renewals = 0  # statements sent (for tests and the benchmark)

    def _usable(self, key: str, cost: float, now: float) -> bool:
        lease = self._leases.get(key)
        return lease is not None and lease.ends_at > now and lease.tokens >= cost

    async def take(self, wanted: list[tuple[BucketSpec, str]], cost: float = 1.0) -> Denied | None:
        """Spend ``cost`` from each ``(spec, subject)`` bucket, or the longest denial."""
        specs = {spec.key(subject): spec for spec, subject in wanted}
        for _ in range(MAX_ATTEMPTS):
            now = self.clock()
            short = [key for key in specs if not self._usable(key, cost, now)]
            if not short:
                for key in specs:  # no await between the check and the spend: atomic in this loop
                    self._leases[key].tokens -= cost
                self._renew_ahead(specs, now)
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
            now = self.clock()
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
            ends_at = self.clock() + self.lease_s
            if len(self._leases) > MAX_LEASES:
                self._forget_ended(self.clock())
            for key, tokens in granted.items():
                self._leases[key] = Lease(tokens, ends_at)
            return denied
        finally:
            for stripe in stripes:
                self._locks[stripe].release()

    def _renew_ahead(self, specs: dict[str, BucketSpec], now: float) -> None:
        """Start one background renewal of the large leases in the last ``AHEAD`` of their life."""
        due: list[tuple[BucketSpec, str, float, float]] = []
        for key, spec in specs.items():
            size = spec.lease_size(self.share)
            lease = self._leases[key]
            if size < AHEAD_MIN_SIZE or key in self._renewing_ahead:
                continue
            if lease.ends_at - now > self.lease_s * AHEAD or lease.tokens < 1:
                continue
            reserve = min(lease.tokens, size * AHEAD)
            due.append((spec, key, size, lease.tokens - reserve))
            lease.tokens = reserve  # the rest goes back with the statement below
        if due:
            self._renewing_ahead.update(key for _, key, _, _ in due)
            task = asyncio.create_task(self._renewal_ahead(due))
            self._ahead.add(task)
            task.add_done_callback(self._ahead.discard)

    async def _renewal_ahead(self, asks: list[tuple[BucketSpec, str, float, float]]) -> None:
        try:
            self.renewals += 1
            granted, _ = await self.store.lease(asks, 1.0)
        except Exception:  # the database is away: the reserve runs out, then requests renew
            return
        finally:
            self._renewing_ahead.difference_update(key for _, key, _, _ in asks)
        ends_at = self.clock() + self.lease_s
        for key, tokens in granted.items():
            lease = self._leases.get(key)
            if lease is None:
                self._leases[key] = Lease(tokens, ends_at)
            else:  # spent meanwhile or renewed by a request: every token here was deducted
                lease.tokens += tokens
                lease.ends_at = ends_at

    def _forget_ended(self, now: float) -> None:
        """Drop ended leases (their few unused tokens refill on the bucket's own rate)."""
        for key in [key for key, lease in self._leases.items() if lease.ends_at <= now]:
            del self._leases[key]
