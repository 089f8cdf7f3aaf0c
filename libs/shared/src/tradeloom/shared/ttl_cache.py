"""A small per-process cache with a short lifetime, one load per key, refreshed ahead of expiry.

Used where a hot path reads something that changes rarely and may be a few seconds old: the
gateway's user status and verified tokens, analytics' option expiries per underlying, market-data's
realised volatility per symbol.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
log = logging.getLogger(__name__)


class TtlCache(Generic[K, V]):
    """Values kept ``ttl_s`` seconds of ``clock`` (0 or less: nothing is kept); at most
    ``max_entries`` keys, then all are forgotten at once.

    ``get_or_load`` refreshes ahead: an entry used in the last ``refresh_ahead`` share of its life
    is reloaded in the background while it is still served, so a key in steady use never makes a
    request wait for its source (a 1 s user cache otherwise stalled every request of that user once
    a second). One load per key is in flight at a time: when an entry expires under load, concurrent
    callers share one read. Nothing older than ``ttl_s`` is ever served; a failed load is never
    kept (its callers get the error; a failed refresh ahead is logged and retried on the next use).
    A ``None`` value is not kept."""

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        refresh_ahead: float = 0.25,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self.refresh_ahead = refresh_ahead
        self._items: dict[K, tuple[float, V]] = {}
        self._loading: dict[K, asyncio.Future[V]] = {}
        self._generation = 0

    def get(self, key: K) -> V | None:
        """The kept value while fresh, else None."""
        item = self._items.get(key) if self.ttl_s > 0 else None
        if item is None or self.clock() >= item[0]:
            return None
        return item[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._items) >= self.max_entries:
            self._items.clear()
        self._items[key] = (self.clock() + self.ttl_s, value)

    def clear(self) -> None:
        self._items.clear()
        self._loading.clear()  # loads started before an invalidation are not shared or kept
        self._generation += 1

    def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> asyncio.Future[V]:
        """The key's one load in flight; its value is stored when it ends (unless cleared since)."""
        pending = self._loading.get(key)
        if pending is not None:
            return pending
        generation = self._generation
        pending = asyncio.ensure_future(load())
        self._loading[key] = pending

        def done(future: asyncio.Future[V]) -> None:
            if self._loading.get(key) is future:
                del self._loading[key]
            if future.cancelled():
                return
            error = future.exception()
            if error is not None:  # the waiting callers see it; a refresh ahead has none: say it
                log.warning("loading %r for the cache failed: %s", key, error)
                return
            value = future.result()
            if value is not None and generation == self._generation:
                self.put(key, value)

        pending.add_done_callback(done)
        return pending

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The kept value, or ``load()``'s (shared with concurrent callers of the same key)."""
        item = self._items.get(key) if self.ttl_s > 0 else None
        now = self.clock()
        if item is not None and now < item[0]:
            if item[0] - now < self.ttl_s * self.refresh_ahead:
                self._load(key, load)  # in the background; this request is served now
            return item[1]
        generation = self._generation
        value = await asyncio.shield(self._load(key, load))
        if value is not None and generation == self._generation and self.ttl_s > 0:
            self.put(key, value)
        return value
