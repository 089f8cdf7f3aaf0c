"""Gaps in a live trade feed, and the 1-minute candles that a backfill may write for one.

A gap is seen when the venue's trade ids jump (ids that are integers: Binance trade and aggregate
ids are consecutive per symbol), or when, after a reconnect, the feed was silent longer than a
threshold. Only the minutes strictly between the last trade before the gap and the first after it
are backfilled: the minutes at the edges hold trades we stored and will be completed by them, so
writing the venue's candle there would count those trades twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeloom.market_data.domain.timeframes import MINUTE_NS


@dataclass(frozen=True)
class Gap:
    symbol: str
    last_id: str
    last_ts_ns: int
    next_id: str
    next_ts_ns: int
    missing_ids: int | None  # trades missing by id sequence (None: ids not sequential numbers)
    reason: str  # "id sequence" or "time"

    def interior_minutes(self) -> tuple[int, int] | None:
        """[first_open_ns, end_open_ns) of the whole minutes inside the gap, or None."""
        first = self.last_ts_ns - self.last_ts_ns % MINUTE_NS + MINUTE_NS
        end = self.next_ts_ns - self.next_ts_ns % MINUTE_NS
        return (first, end) if first < end else None


def _int_id(trade_id: str) -> int | None:
    return int(trade_id) if trade_id.isdigit() else None


def detect_gap(
    symbol: str,
    last: tuple[str, int] | None,
    next_trade: tuple[str, int],
    *,
    reconnected: bool,
    max_silence_ns: int,
) -> Gap | None:
    """The gap between ``last`` (id, ts_ns) and ``next_trade``, if any."""
    if last is None:
        return None
    last_id, last_ts = last
    next_id, next_ts = next_trade
    a, b = _int_id(last_id), _int_id(next_id)
    missing = b - a - 1 if a is not None and b is not None else None
    if missing is not None and missing > 0:
        return Gap(symbol, last_id, last_ts, next_id, next_ts, missing, "id sequence")
    if reconnected and next_ts - last_ts > max_silence_ns:
        return Gap(symbol, last_id, last_ts, next_id, next_ts, missing, "time")
    return None


def is_newer(trade: tuple[str, int], last: tuple[str, int] | None) -> bool:
    """Whether a trade (id, ts_ns) comes after ``last``: by id when both are numbers, else by time."""
    if last is None:
        return True
    a, b = _int_id(last[0]), _int_id(trade[0])
    if a is not None and b is not None:
        return b > a
    return (trade[1], trade[0]) > (last[1], last[0])
