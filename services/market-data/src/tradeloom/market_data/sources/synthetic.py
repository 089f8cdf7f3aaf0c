"""The synthetic source: every configured symbol trades in real time (Poisson arrivals, GBM
prices); its book (moved by the trades) goes out when it changed, at most every ``book_interval_s``,
the newest one at the next allowed instant (``book_feed``).

Its clock is the wall clock, unless a test asks for a fast market: ``MarketClock`` can start
``backdate_s`` in the past and run ``scale`` times faster, so 1m candles close every second or so.
It passes the wall clock and stays ahead of it: the paper exchange fills an order only with trades
after it was accepted, so a market behind the wall clock would never fill one."""

from __future__ import annotations

import asyncio
import logging
import time

from tradeloom.market_data.domain.simulator import SyntheticMarket
from tradeloom.market_data.sources.book_feed import BookFeed, BookState
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)


class MarketClock:
    """Market time in ns: ``backdate_s`` behind the wall clock at creation, running ``scale``× (scale 1
    and no backdate: the wall clock), and never at or before ``after_ns`` (the newest trade a
    previous run stored: a restarted fast market carries on instead of trading in the past)."""

    def __init__(self, scale: float = 1.0, backdate_s: float = 0.0, after_ns: int | None = None) -> None:
        self.scale = scale
        self._wall_start = time.time_ns()
        self._market_start = self._wall_start - int(backdate_s * 1e9)
        if after_ns is not None and after_ns >= self._market_start:
            self._market_start = after_ns + 1  # a restart goes on after what the last run stored

    def now_ns(self) -> int:
        return self._market_start + int((time.time_ns() - self._wall_start) * self.scale)


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
        clock: MarketClock | None = None,
    ) -> None:
        self.publisher = publisher
        self.venue = venue
        self.markets = markets
        self.tick_s = tick_s
        self.book_levels = book_levels
        self.clock = clock or MarketClock()
        self._book_seq = 0
        self.book_feeds = {
            m.config.symbol: BookFeed(publisher, venue, m.config.symbol, 1.0 / book_interval_s)
            for m in markets
        }
        self._booked: set[str] = set()  # symbols with at least one book offered

    async def step(self, start_ns: int, end_ns: int) -> int:
        """Trades of every market in [start_ns, end_ns), then the books they moved offered to the
        symbols' feeds; returns trades sent."""
        sent = 0
        for market in self.markets:
            symbol = market.config.symbol
            trades = market.trades(market.arrivals(start_ns, end_ns))
            if trades:
                await self.publisher.publish_trades(self.venue, symbol, trades)
                sent += len(trades)
            if trades or symbol not in self._booked:
                bids, asks = market.book(self.book_levels)
                self._book_seq += 1
                self.book_feeds[symbol].offer(BookState(end_ns, self._book_seq, bids, asks))
                self._booked.add(symbol)
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop``; errors (NATS down) are logged and the loop carries on."""
        feeds = [asyncio.create_task(feed.run()) for feed in self.book_feeds.values()]
        last_ns = self.clock.now_ns()
        try:
            while not stop.is_set():
                await wait_for_stop(stop, self.tick_s)
                now_ns = self.clock.now_ns()
                start_ns, last_ns = last_ns, now_ns  # a failed interval is skipped, not regenerated
                try:
                    await self.step(start_ns, now_ns)
                except Exception as error:
                    log.warning("synthetic source %s: publish failed: %r", self.venue, error)
        finally:
            for task in feeds:
                task.cancel()
            await asyncio.gather(*feeds, return_exceptions=True)
