"""Reference candle rules: a fold of trades and a roll-up of candles.

The store does the same in SQL for speed; tests compare both against an independent computation.
Order of trades inside a bucket is (ts_ns, trade_id): open is the first trade, close the last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tradeloom.market_data.domain.timeframes import bucket_start


@dataclass(frozen=True)
class TradePoint:
    trade_id: str
    ts_ns: int
    price: Decimal
    amount: Decimal


@dataclass(frozen=True)
class Bar:
    open_ns: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trade_count: int


def candles_from_trades(trades: Iterable[TradePoint], timeframe: str) -> list[Bar]:
    """Candles of distinct trades (duplicates by trade_id counted once), in time order."""
    unique = {trade.trade_id: trade for trade in trades}
    buckets: dict[int, list[TradePoint]] = {}
    for trade in sorted(unique.values(), key=lambda t: (t.ts_ns, t.trade_id)):
        buckets.setdefault(bucket_start(trade.ts_ns, timeframe), []).append(trade)
    return [
        Bar(
            open_ns=start,
            open=group[0].price,
            high=max(t.price for t in group),
            low=min(t.price for t in group),
            close=group[-1].price,
            volume=sum((t.amount for t in group), Decimal(0)),
            trade_count=len(group),
        )
        for start, group in sorted(buckets.items())
    ]


def rollup(bars: Iterable[Bar], timeframe: str) -> list[Bar]:
    """Coarser candles from finer ones (any finer timeframe that divides ``timeframe``)."""
    buckets: dict[int, list[Bar]] = {}
    for bar in sorted(bars, key=lambda b: b.open_ns):
        buckets.setdefault(bucket_start(bar.open_ns, timeframe), []).append(bar)
    return [
        Bar(
            open_ns=start,
            open=group[0].open,
            high=max(b.high for b in group),
            low=min(b.low for b in group),
            close=group[-1].close,
            volume=sum((b.volume for b in group), Decimal(0)),
            trade_count=sum(b.trade_count for b in group),
        )
        for start, group in sorted(buckets.items())
    ]
