"""market-data's instrument registry (``svc.market-data.instruments``), cached per venue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from tradeloom.shared.contracts.market_data import Instrument, InstrumentsReply, InstrumentsRequest
from tradeloom.shared.rpc import ServiceClient


class InstrumentDirectory:
    """Looks up one instrument; the venue's whole list is fetched at most once per ``ttl_s``."""

    def __init__(self, client: Callable[[], ServiceClient], *, ttl_s: float, timeout_s: float) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.timeout_s = timeout_s
        self._cache: dict[str, tuple[float, dict[str, Instrument]]] = {}
        self._lock = asyncio.Lock()

    async def get(self, venue: str, symbol: str) -> Instrument | None:
        """The instrument, or ``None`` when the venue does not list it; ``Unavailable``/``Timeout``
        (503/504 to the caller) when market-data does not answer."""
        cached = self._cache.get(venue)
        if cached is None or time.monotonic() - cached[0] > self.ttl_s:
            async with self._lock:
                cached = self._cache.get(venue)
                if cached is None or time.monotonic() - cached[0] > self.ttl_s:
                    reply = await self.client().call(
                        "market-data",
                        "instruments",
                        InstrumentsRequest(venue=venue),
                        InstrumentsReply,
                        timeout_s=self.timeout_s,
                    )
                    cached = (time.monotonic(), {i.symbol: i for i in reply.instruments})
                    self._cache[venue] = cached
        return cached[1].get(symbol.strip().upper())
