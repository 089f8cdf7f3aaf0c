"""Recent option quotes per (venue, underlying), refreshed in the background.

The pre-trade check must answer within order-router's deadline (50 ms), too short for a request to
market-data on the way, and the Greeks alerts must follow the quotes as they move: both read this
book. Every ``refresh_s`` it fetches the whole chain (``svc.market-data.option_quotes``) of each
underlying wanted: asked about by a check in the last ``keep_s``, or held by an account
(``sources``), and hands each fresh chain to its ``listeners`` (the Greeks alerts), so alerts are
evaluated at most once per chain and refresh. A chain older than ``max_age_s`` is stale: the check
refuses an entry rather than value it at old quotes (``option_quotes_stale``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable

from pydantic import ValidationError

from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.contracts.market_data_options import OptionQuotesReply
from tradeloom.shared.errors import ServiceError
from tradeloom.shared.rpc import ServiceClient

log = logging.getLogger(__name__)
Key = tuple[str, str]  # (venue, underlying spot symbol)
Listener = Callable[[str, str, OptionQuotesReply], Awaitable[object]]
Source = Callable[[], Awaitable[Iterable[Key]]]


class OptionQuoteBook:
    def __init__(
        self,
        client: Callable[[], ServiceClient],
        *,
        timeout_s: float,
        refresh_s: float,
        max_age_s: float,
        keep_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self.timeout_s = timeout_s
        self.refresh_s = refresh_s
        self.max_age_s = max_age_s
        self.keep_s = keep_s
        self._clock = clock
        self._chains: dict[Key, tuple[float, OptionQuotesReply]] = {}
        self._wanted: dict[Key, float] = {}
        self.listeners: list[Listener] = []
        self.sources: list[Source] = []

    def want(self, venue: str, underlying: str) -> None:
        """Keep ``underlying`` refreshed (for ``keep_s`` from now)."""
        self._wanted[(venue, underlying)] = self._clock()

    def fresh(self, venue: str, underlying: str) -> OptionQuotesReply | None:
        """The chain if it is at most ``max_age_s`` old, else ``None`` (and it is wanted from now)."""
        self.want(venue, underlying)
        entry = self._chains.get((venue, underlying))
        if entry is None or self._clock() - entry[0] > self.max_age_s:
            return None
        return entry[1]

    async def _keys(self) -> set[Key]:
        now = self._clock()
        for key in [k for k, at in self._wanted.items() if now - at > self.keep_s]:
            del self._wanted[key]
        keys = set(self._wanted)
        for source in self.sources:
            keys |= set(await source())
        return keys

    async def refresh(self) -> None:
        """Fetch each wanted chain once; a chain market-data does not give stays as it was (and
        goes stale)."""
        for venue, underlying in sorted(await self._keys()):
            try:
                reply = await self._client().call_raw(
                    "market-data",
                    "option_quotes",
                    {"underlying": underlying, "venue": venue},
                    timeout_s=self.timeout_s,
                )
                chain = OptionQuotesReply.model_validate(reply)
            except (ServiceError, ValidationError) as error:
                log.info("option quotes of %s %s not refreshed: %r", venue, underlying, error)
                continue
            self._chains[(venue, underlying)] = (self._clock(), chain)
            for listener in self.listeners:
                await listener(venue, underlying, chain)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.refresh()
            except Exception as error:  # Postgres restarting (a listener): the next round tries again
                log.warning("option quote refresh failed: %r", error)
            await wait_for_stop(stop, self.refresh_s)
