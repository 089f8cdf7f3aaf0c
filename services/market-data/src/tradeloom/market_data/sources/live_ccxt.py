"""The live source: trades and order books of a ccxt exchange, published like any other source.

- Transport: ccxt.pro's websocket ``watch_trades`` / ``watch_order_book`` where the venue has them
  (and ``transport`` is not ``rest``), REST polling of ``fetch_trades`` / ``fetch_order_book``
  every ``poll_interval_s`` otherwise.
- Reconnect: any ccxt network error (a dropped websocket, a refused connection, a REST timeout) is
  logged and retried after a backoff that doubles from ``backoff_initial_s`` up to
  ``backoff_max_s``, and resets at the first data received. ccxt opens a new connection and
  re-subscribes on the next ``watch_*`` call.
- Gaps (``domain.gaps``): a jump in the venue's trade ids, or a silence longer than ``gap_time_s``
  after a reconnect, is logged with its size. Across a restart too: ``resume_from`` seeds each
  symbol with the last trade stored before it, and the first trade received is compared with that
  as after a reconnect. With ``backfill`` on, the whole minutes inside the gap
  are fetched with ``fetch_ohlcv`` and written as 1m candles (``backfill`` callback) BEFORE the
  first trades after the gap are published, so those candles exist when the watermark closes them.
- Trades keep the venue's ids, so a reconnect that re-delivers trades, or a restarted service, stores
  nothing twice. Books (top ``book_levels``) go out when those levels changed, at most ``book_max_hz``
  a second per symbol, the newest pending one at the next allowed instant (``book_feed``); REST
  polls the book every ``book_interval_s``.
- Metrics (``live_metrics``): trades received, reconnects, gaps and missing trades, backfilled
  candles and failures, seconds since the last trade.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt
from prometheus_client import CollectorRegistry

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.gaps import Gap, detect_gap, is_newer
from tradeloom.market_data.domain.timeframes import MINUTE_NS
from tradeloom.market_data.source_settings import LiveSourceSettings
from tradeloom.market_data.sources.book_feed import BookFeed, BookState
from tradeloom.market_data.sources.ccxt_exchange import (
    book_levels,
    configured_symbols,
    instruments_from_markets,
    ohlcv_bar,
    trade_tick,
)
from tradeloom.market_data.sources.live_metrics import LiveSourceMetrics
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.contracts.market_data import Instrument, TradeTick

log = logging.getLogger(__name__)

Backfill = Callable[[str, str, list[Bar]], Awaitable[int]]  # venue, symbol, 1m bars → stored
GapSink = Callable[[str, Gap], Awaitable[None]]  # venue, gap → recorded (per-subscription gaps)


class Backoff:
    """Doubling delays between reconnect attempts, reset by success."""

    def __init__(self, initial_s: float, max_s: float) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.next_s = initial_s

    def failed(self) -> float:
        delay = self.next_s
        self.next_s = min(self.next_s * 2, self.max_s)
        return delay

    def succeeded(self) -> None:
        self.next_s = self.initial_s


class LiveCcxtSource:
    def __init__(
        self,
        exchange: Any,
        config: LiveSourceSettings,
        publisher: MarketPublisher,
        *,
        websocket: bool,
        backfill: Backfill | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        metrics: LiveSourceMetrics | None = None,
        gap_sink: GapSink | None = None,
    ) -> None:
        self.exchange = exchange
        self.gap_sink = gap_sink
        self.config = config
        self.venue = config.venue_name
        self.publisher = publisher
        self.websocket = websocket
        self.backfill = backfill if config.backfill else None
        self.sleep = sleep
        self.metrics = metrics or LiveSourceMetrics(CollectorRegistry())  # the service passes its own
        self.symbols: list[str] = []
        self.last: dict[str, tuple[str, int]] = {}  # symbol → (trade id, ts_ns) of the newest trade
        self.reconnect_delays: list[tuple[str, float]] = []  # (what, seconds) of every backoff waited
        self.gaps: list[Gap] = []
        self.backfilled = 0  # 1m candles written after gaps
        self.published = 0
        self.book_feeds: dict[str, BookFeed] = {}
        self._polled: set[str] = set()
        self._resumed: set[str] = set()  # symbols seeded from storage, not yet seen in this process

    async def load(self) -> list[Instrument]:
        """``load_markets`` (retried with backoff): every mapped instrument; picks the symbols."""
        backoff = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        while True:
            try:
                markets = await self.exchange.load_markets()
                break
            except ccxt.NetworkError as error:
                await self._wait(backoff, "load_markets", error, stream="markets")
        self.symbols = configured_symbols(self.config, markets)
        return instruments_from_markets(self.venue, markets, getattr(self.exchange, "precisionMode", None))

    def resume_from(self, last_stored: dict[str, tuple[str, int]]) -> None:
        """Seed symbols with the (trade id, ts_ns) last stored before this process started: the first
        trade received is then checked for a gap against it, as after a reconnect."""
        for symbol, last in last_stored.items():
            if symbol not in self.last:
                self.last[symbol] = last
                self._resumed.add(symbol)

    async def run(self, stop: asyncio.Event) -> None:
        """Watch every symbol until ``stop``; then close the exchange's connections."""
        loops = [self._trades_loop(symbol) for symbol in self.symbols]
        if self.config.books:
            loops += [self._books_loop(symbol) for symbol in self.symbols]
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.exchange.close()

    async def _wait(self, backoff: Backoff, what: str, error: Exception, *, stream: str | None) -> None:
        """Back off after a failure; ``stream`` (markets/trades/book) counts it as a reconnect,
        None as a publish retry."""
        delay = backoff.failed()
        self.reconnect_delays.append((what, delay))
        if stream is None:
            self.metrics.publish_retries.labels(self.venue).inc()
        else:
            self.metrics.reconnects.labels(self.venue, stream).inc()
        log.warning("%s %s failed, reconnecting in %.2fs: %s", self.venue, what, delay, error)
        await self.sleep(delay)

    # ------------------------------------------------------------------------------ trades
    async def _trades_loop(self, symbol: str) -> None:
        """A receiver that re-arms ``watch_trades`` at once (ccxt hands over trades only when the
        next message arrives after the call) and a processor that may wait on a backfill or NATS."""
        received: asyncio.Queue[tuple[list[dict[str, Any]], bool]] = asyncio.Queue()
        processor = asyncio.create_task(self._process_trades(symbol, received))
        backoff = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        reconnected = False
        try:
            while True:
                try:
                    raw = await self._next_trades(symbol)
                except ccxt.BaseError as error:  # network (drop, refusal, timeout) or the venue refusing
                    reconnected = True
                    await self._wait(backoff, f"trades {symbol}", error, stream="trades")
                    continue
                backoff.succeeded()
                received.put_nowait((raw, reconnected))
                reconnected = False
        finally:
            processor.cancel()
            await asyncio.gather(processor, return_exceptions=True)

    async def _process_trades(
        self, symbol: str, received: asyncio.Queue[tuple[list[dict[str, Any]], bool]]
    ) -> None:
        backoff = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        reconnected = symbol in self._resumed  # a restart is a reconnect for the silence rule
        while True:
            raw, after_reconnect = await received.get()
            reconnected = reconnected or after_reconnect
            if self.websocket:  # the polled REST list is fetched by ``since``; these come in bursts
                while not received.empty():
                    more, again = received.get_nowait()
                    raw, reconnected = raw + more, reconnected or again
            trades = self._new_trades(symbol, raw)
            if not trades:
                continue
            self.metrics.received(self.venue, symbol, len(trades))
            gap = detect_gap(
                symbol,
                self.last.get(symbol),
                (trades[0].trade_id, trades[0].ts_ns),
                reconnected=reconnected,
                max_silence_ns=int(self.config.gap_time_s * 1e9),
            )
            reconnected = False
            if gap is not None:
                await self._on_gap(gap)
            self._resumed.discard(symbol)
            while True:  # a websocket does not resend: keep these until NATS takes them
                try:
                    await self.publisher.publish_trades(self.venue, symbol, trades)
                    break
                except Exception as error:
                    await self._wait(backoff, f"publishing trades {symbol}", error, stream=None)
            self.published += len(trades)
            self.last[symbol] = (trades[-1].trade_id, trades[-1].ts_ns)

    async def _next_trades(self, symbol: str) -> list[dict[str, Any]]:
        if self.websocket:
            return list(await self.exchange.watch_trades(symbol))
        if symbol in self._polled:  # the first poll takes the venue's recent trades without waiting
            await self.sleep(self.config.poll_interval_s)
        self._polled.add(symbol)
        last = self.last.get(symbol)
        since_ms = last[1] // 1_000_000 if last else None
        return list(await self.exchange.fetch_trades(symbol, since=since_ms))

    def _new_trades(self, symbol: str, raw: list[dict[str, Any]]) -> list[TradeTick]:
        """Validated trades newer than the last one published, in venue order."""
        out: list[TradeTick] = []
        last = self.last.get(symbol)
        for item in raw:
            try:
                tick = trade_tick(item)
            except ValueError as error:
                log.warning("%s %s: trade %r refused: %s", self.venue, symbol, item.get("id"), error)
                continue
            if is_newer((tick.trade_id, tick.ts_ns), last):
                out.append(tick)
                last = (tick.trade_id, tick.ts_ns)
        return out

    async def _on_gap(self, gap: Gap) -> None:
        self.gaps.append(gap)
        self.metrics.gaps.labels(self.venue, gap.symbol, gap.reason).inc()
        if gap.missing_ids is not None:
            self.metrics.gap_missing.labels(self.venue, gap.symbol).inc(gap.missing_ids)
        log.warning(
            "%s %s: gap%s by %s between trade %s (%d) and %s (%d): %s trades missing, %.1fs silent",
            self.venue, gap.symbol, " since the last stored trade" if gap.symbol in self._resumed else "",
            gap.reason, gap.last_id, gap.last_ts_ns, gap.next_id, gap.next_ts_ns,
            "?" if gap.missing_ids is None else gap.missing_ids, (gap.next_ts_ns - gap.last_ts_ns) / 1e9,
        )  # fmt: skip
        if self.gap_sink is not None:
            try:
                await self.gap_sink(self.venue, gap)
            except Exception as error:  # the database away: the gap stays logged and counted
                log.error("%s %s: gap not recorded: %r", self.venue, gap.symbol, error)
        minutes = gap.interior_minutes()
        if self.backfill is None or minutes is None:
            return
        first, end = minutes
        bars: list[Bar] = []
        since_ms = first // 1_000_000
        try:
            while since_ms < end // 1_000_000:
                rows = await self.exchange.fetch_ohlcv(gap.symbol, "1m", since=since_ms, limit=500)
                page = [ohlcv_bar(row) for row in rows]
                bars += [bar for bar in page if first <= bar.open_ns < end]
                if not page or page[-1].open_ns // 1_000_000 < since_ms:
                    break
                since_ms = page[-1].open_ns // 1_000_000 + MINUTE_NS // 1_000_000
            stored = await self.backfill(self.venue, gap.symbol, bars)
        except Exception as error:  # the gap stays logged; candles stay trade-built
            log.error("%s %s: candle backfill failed: %r", self.venue, gap.symbol, error)
            self.metrics.backfill_failures.labels(self.venue, gap.symbol).inc()
            return
        self.backfilled += stored
        self.metrics.backfilled.labels(self.venue, gap.symbol).inc(stored)
        log.info("%s %s: backfilled %d 1m candles from fetch_ohlcv", self.venue, gap.symbol, stored)

    # ------------------------------------------------------------------------------- books
    async def _books_loop(self, symbol: str) -> None:
        """Receive books (websocket updates, or a REST poll every ``book_interval_s``) and offer each
        to the symbol's ``BookFeed``, which publishes changes at its bounded rate."""
        feed = BookFeed(self.publisher, self.venue, symbol, self.config.book_max_hz)
        self.book_feeds[symbol] = feed
        sender = asyncio.create_task(feed.run())
        backoff = Backoff(self.config.backoff_initial_s, self.config.backoff_max_s)
        seq = 0
        try:
            while True:
                try:
                    if self.websocket:
                        book = await self.exchange.watch_order_book(symbol)
                    else:
                        await self.sleep(self.config.book_interval_s)
                        book = await self.exchange.fetch_order_book(symbol, self.config.book_levels)
                except ccxt.BaseError as error:
                    await self._wait(backoff, f"book {symbol}", error, stream="book")
                    continue
                backoff.succeeded()
                try:  # copied now: ccxt.pro keeps updating the same book object
                    bids = book_levels(book["bids"], self.config.book_levels)
                    asks = book_levels(book["asks"], self.config.book_levels)
                except (ValueError, IndexError, TypeError) as error:
                    log.warning("%s %s: book refused: %s", self.venue, symbol, error)
                    continue
                seq += 1
                nonce, ts_ms = book.get("nonce"), book.get("timestamp")
                feed.offer(
                    BookState(
                        ts_ns=ts_ms * 1_000_000 if isinstance(ts_ms, int) else time.time_ns(),
                        seq=nonce if isinstance(nonce, int) and nonce >= 0 else seq,
                        bids=bids,
                        asks=asks,
                    )
                )
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)
