"""The synthetic source: every configured symbol trades in real time (Poisson arrivals, GBM
prices) and publishes a book snapshot at most every ``book_interval_s`` when it changed."""

from __future__ import annotations

import asyncio
import logging
import time

from tradeloom.market_data.domain.simulator import SyntheticMarket
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)


class SyntheticSource:
    def __init__(
        self,
        publisher: MarketPublisher,
        venue: str,
        markets: list[SyntheticMarket],
        *,
        tick_s: float = 0.25,
        book_interval_s: float = 1.0,
        book_levels: int = 20,
    ) -> None:
        self.publisher = publisher
        self.venue = venue
        self.markets = markets
        self.tick_s = tick_s
        self.book_interval_s = book_interval_s
        self.book_levels = book_levels
        self._book_seq = 0
        self._booked: set[str] = set()  # symbols with at least one book published

    async def step(self, start_ns: int, end_ns: int, publish_books: bool) -> int:
        """Trades of every market in [start_ns, end_ns), then books if asked; returns trades sent."""
        sent = 0
        for market in self.markets:
            trades = market.trades(market.arrivals(start_ns, end_ns))
            if trades:
                await self.publisher.publish_trades(self.venue, market.config.symbol, trades)
                sent += len(trades)
            if publish_books and (trades or market.config.symbol not in self._booked):
                bids, asks = market.book(self.book_levels)
                self._book_seq += 1
                await self.publisher.publish_book(
                    self.venue, market.config.symbol, ts_ns=end_ns, seq=self._book_seq, bids=bids, asks=asks
                )
                self._booked.add(market.config.symbol)
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop``; errors (NATS down) are logged and the loop carries on."""
        last_ns = time.time_ns()
        last_book = 0.0
        while not stop.is_set():
            await wait_for_stop(stop, self.tick_s)
            now_ns = time.time_ns()
            books_due = time.monotonic() - last_book >= self.book_interval_s
            start_ns, last_ns = last_ns, now_ns  # a failed interval is skipped, not regenerated
            try:
                await self.step(start_ns, now_ns, books_due)
            except Exception as error:
                log.warning("synthetic source %s: publish failed: %r", self.venue, error)
                continue
            if books_due:
                last_book = time.monotonic()
