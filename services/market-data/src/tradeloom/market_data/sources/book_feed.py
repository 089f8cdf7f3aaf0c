"""One symbol's order books, offered as they arrive and published at the throttle's pace.

The receiving side (a websocket, a REST poll, a simulator) calls ``offer`` with every book it sees;
``run`` publishes only when the top levels changed, at most ``max_hz`` a second, and sends the
newest pending book at the next allowed instant even when no further update arrives
(``domain.book_throttle``). A failed publish is retried the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from tradeloom.market_data.domain.book import Level
from tradeloom.market_data.domain.book_throttle import BookThrottle
from tradeloom.market_data.sources.publisher import MarketPublisher

log = logging.getLogger(__name__)

TopLevels = tuple[tuple[Level, ...], tuple[Level, ...]]


@dataclass(frozen=True)
class BookState:
    ts_ns: int
    seq: int
    bids: list[Level]
    asks: list[Level]

    def top(self) -> TopLevels:
        return tuple(self.bids), tuple(self.asks)


class BookFeed:
    def __init__(
        self,
        publisher: MarketPublisher,
        venue: str,
        symbol: str,
        max_hz: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.publisher = publisher
        self.venue = venue
        self.symbol = symbol
        self.throttle: BookThrottle[TopLevels, BookState] = BookThrottle(max_hz, clock)
        self.published = 0
        self._offered = asyncio.Event()

    def offer(self, book: BookState) -> None:
        self.throttle.offer(book.top(), book)
        self._offered.set()

    async def run(self) -> None:
        """Publish until cancelled."""
        while True:
            delay = self.throttle.delay_s()
            if delay is None:
                self._offered.clear()
                await self._offered.wait()
                continue
            if delay > 0:
                await asyncio.sleep(delay)
                continue
            book = self.throttle.take()
            if book is None:
                continue
            try:
                await self.publisher.publish_book(
                    self.venue, self.symbol, ts_ns=book.ts_ns, seq=book.seq, bids=book.bids, asks=book.asks
                )
            except Exception as error:
                log.warning("%s %s: book publish failed, will retry: %r", self.venue, self.symbol, error)
                self.throttle.failed(book.top(), book)
                continue
            self.published += 1
