"""Prometheus metrics of the live ccxt sources, registered once per process in the runtime's
registry (served on ``/metrics``) and shared by every configured exchange (label ``venue``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge

VS = ["venue", "symbol"]


class LiveSourceMetrics:
    """``clock`` (monotonic seconds) dates the last trade received, for the staleness gauge."""

    def __init__(self, registry: CollectorRegistry, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.trades = Counter(
            "tl_md_live_trades_received", "Trades received from the venue (new ones)", VS, registry=registry
        )
        self.reconnects = Counter(
            "tl_md_live_reconnects",
            "Venue calls that failed and were retried after a backoff, by stream (markets, trades, book)",
            ["venue", "stream"],
            registry=registry,
        )
        self.publish_retries = Counter(
            "tl_md_live_publish_retries", "Trade publishes to NATS retried", ["venue"], registry=registry
        )
        self.gaps = Counter(
            "tl_md_live_gaps", "Gaps in the trade feed, by reason", [*VS, "reason"], registry=registry
        )
        self.gap_missing = Counter(
            "tl_md_live_gap_missing_trades",
            "Trades missing in gaps (by the venue's ids)",
            VS,
            registry=registry,
        )
        self.backfilled = Counter(
            "tl_md_live_backfilled_candles",
            "1m candles written from fetch_ohlcv after gaps",
            VS,
            registry=registry,
        )
        self.backfill_failures = Counter(
            "tl_md_live_backfill_failures",
            "Gap backfills that failed (venue or database)",
            VS,
            registry=registry,
        )
        self.last_trade_age = Gauge(
            "tl_md_live_last_trade_age_seconds",
            "Seconds since the last trade was received for a symbol (in this process)",
            VS,
            registry=registry,
        )
        self._last_received: dict[tuple[str, str], float] = {}

    def received(self, venue: str, symbol: str, count: int) -> None:
        self.trades.labels(venue, symbol).inc(count)
        key = (venue, symbol)
        if key not in self._last_received:  # the gauge reads the age when scraped
            self.last_trade_age.labels(venue, symbol).set_function(lambda: self.age_s(key))
        self._last_received[key] = self.clock()

    def age_s(self, key: tuple[str, str]) -> float:
        return self.clock() - self._last_received[key]
