"""market-data's instrument registry (``svc.market-data.instruments``), cached per venue.

A venue's list older than ``ttl_s`` is still answered from memory while one background request
refreshes it (stale while revalidating): an order never waits for the refresh, which matters at a
minute's turn, when a burst of bot orders would otherwise queue behind the one that found the list
expired (the cache's lifetime and the candle period are both a minute). Only a list older than
``max_stale_s`` (market-data away for that long) or none at all is fetched in the order's path,
so a delisting reaches the checks within ``ttl_s`` plus one round trip while market-data answers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from tradeloom.shared.contracts.market_data import Instrument, InstrumentsReply, InstrumentsRequest
from tradeloom.shared.rpc import ServiceClient

log = logging.getLogger(__name__)
Listing = tuple[float, dict[str, Instrument]]  # (fetched at, monotonic; instruments by symbol)


class InstrumentDirectory:
    """Looks up one instrument; the venue's whole list is fetched about once per ``ttl_s``."""

    def __init__(
        self,
        client: Callable[[], ServiceClient],
        *,
        ttl_s: float,
        timeout_s: float,
        max_stale_s: float | None = None,
    ) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self.max_stale_s = 5 * ttl_s if max_stale_s is None else max_stale_s
        self._cache: dict[str, Listing] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}

    async def get(self, venue: str, symbol: str) -> Instrument | None:
        """The instrument, or ``None`` when the venue does not list it; ``Unavailable``/``Timeout``
        (503/504 to the caller) when market-data does not answer and no usable list is held."""
        cached = self._cache.get(venue)
        age = None if cached is None else time.monotonic() - cached[0]
        if cached is None or age is None or age > self.max_stale_s:
            cached = await self._fetch_once(venue)
        elif age > self.ttl_s:
            self._refresh_behind(venue)
        return cached[1].get(symbol.strip().upper())

    async def _fetch_once(self, venue: str) -> Listing:
        """The venue's list, fetched by one caller while the others wait for it."""
        async with self._locks.setdefault(venue, asyncio.Lock()):
            cached = self._cache.get(venue)
            if cached is not None and time.monotonic() - cached[0] <= self.max_stale_s:
                return cached  # fetched while this caller waited
            return await self._fetch(venue)

    async def _fetch(self, venue: str) -> Listing:
        reply = await self.client().call(
            "market-data", "instruments", InstrumentsRequest(venue=venue), InstrumentsReply,
            timeout_s=self.timeout_s,
        )  # fmt: skip
        listing = (time.monotonic(), {i.symbol: i for i in reply.instruments})
        self._cache[venue] = listing
        return listing

    def _refresh_behind(self, venue: str) -> None:
        running = self._refreshing.get(venue)
        if running is not None and not running.done():
            return
        self._refreshing[venue] = asyncio.create_task(self._refresh(venue))

    async def _refresh(self, venue: str) -> None:
        try:
            async with self._locks.setdefault(venue, asyncio.Lock()):
                await self._fetch(venue)
        except Exception as error:  # the held list serves on until max_stale_s; the next get retries
            log.warning("instruments of %s not refreshed (kept %.0f s more at most): %r",
                        venue, self.max_stale_s - self.ttl_s, error)  # fmt: skip
