"""The replay source: a CSV or Parquet file of trades or OHLCV bars, replayed at a chosen speed.

Speed ``s`` maps event time to wall time: a trade ``Δt`` after the file's first trade is published
``Δt / s`` after the replay started (``None`` = as fast as possible). Trades keep the file's own
timestamps (history stays history) and ids (see ``domain.replay``), so a restarted replay re-sends
the same trades and the persistence consumer stores each once. The replay runs once, then idles.
The clock and sleep are injectable so tests check pacing without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import pandas as pd

from tradeloom.market_data.domain.replay import ReplayFileError, trades_from_bars_text, trades_from_text
from tradeloom.market_data.source_settings import ReplaySourceSettings
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.contracts.market_data import TradeTick

log = logging.getLogger(__name__)


def file_text(path: Path) -> str:
    """The file as CSV text (Parquet is converted: one reader and one set of rules for both)."""
    if not path.is_file():
        raise ReplayFileError(f"replay file {str(path)!r} does not exist")
    if path.suffix.lower() in (".parquet", ".pq"):
        return str(pd.read_parquet(path).to_csv(index=False))
    return path.read_text(encoding="utf-8-sig")


def load_trades(config: ReplaySourceSettings) -> list[TradeTick]:
    text = file_text(Path(config.path))
    if config.kind == "bars":
        interval = config.bar_seconds * 10**9 if config.bar_seconds else None
        return trades_from_bars_text(text, interval, config.timezone)
    return trades_from_text(text)


class ReplaySource:
    """Publishes one file's trades for one symbol, paced by ``speed``."""

    def __init__(
        self,
        publisher: MarketPublisher,
        venue: str,
        symbol: str,
        trades: Sequence[TradeTick],
        *,
        speed: float | None = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_batch: int = 5000,
    ) -> None:
        self.publisher = publisher
        self.venue = venue
        self.symbol = symbol
        self.trades = trades
        self.speed = speed
        self.clock = clock
        self.sleep = sleep
        self.max_batch = max_batch
        self.published = 0

    async def run(self, stop: asyncio.Event | None = None) -> int:
        """Replay every trade once; returns how many were published."""
        if not self.trades:
            return 0
        began = self.clock()
        first_ns = self.trades[0].ts_ns
        index = 0
        while index < len(self.trades) and not (stop and stop.is_set()):
            if self.speed is None:
                end = min(len(self.trades), index + self.max_batch)
            else:
                due = began + (self.trades[index].ts_ns - first_ns) / 1e9 / self.speed
                wait = due - self.clock()
                if wait > 0:
                    await self.sleep(wait)
                # everything due by now goes out together (one message per publisher batch)
                now_ns = first_ns + int((self.clock() - began) * self.speed * 1e9)
                end = index + 1
                while end < len(self.trades) and end - index < self.max_batch:
                    if self.trades[end].ts_ns > now_ns:
                        break
                    end += 1
            await self.publisher.publish_trades(self.venue, self.symbol, self.trades[index:end])
            self.published += end - index
            index = end
        return self.published


async def run_replay(publisher: MarketPublisher, config: ReplaySourceSettings, stop: asyncio.Event) -> None:
    """Load and replay one configured file; a bad file is logged once (the service keeps running)."""
    try:
        trades = await asyncio.to_thread(load_trades, config)
    except (ReplayFileError, OSError, ValueError) as error:
        log.error("replay %s %s from %s: cannot replay: %s", config.venue, config.symbol, config.path, error)
        return
    sent = 0
    while not stop.is_set() and sent < len(trades):
        source = ReplaySource(publisher, config.venue, config.symbol, trades[sent:], speed=config.speed)
        try:
            await source.run(stop)
        except Exception as error:  # NATS down: resume; the ids make a re-sent batch harmless
            log.warning("replay %s %s: publish failed, resuming: %r", config.venue, config.symbol, error)
            await asyncio.sleep(1.0)
        sent += source.published
    log.info("replay %s %s finished: %d trades", config.venue, config.symbol, sent)
