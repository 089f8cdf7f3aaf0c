"""Timeframes and bucket arithmetic on integer nanoseconds (UTC).

Fifteen timeframes, as ccxt venues name them: 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M.
Fixed-width buckets are aligned to the epoch (1970-01-01 00:00 UTC; so 3d buckets start on
1970-01-01 + 3k days, as Binance's) except weeks, which start on Monday 00:00 UTC (1970-01-05) as
exchanges do. ``1M`` is the calendar month: it opens on the 1st at 00:00 UTC and has no fixed width
(28 to 31 days), so its end comes from ``bucket_end``, never from a width.
"""

from __future__ import annotations

import calendar
import time

MINUTE_NS = 60 * 1_000_000_000
DAY_NS = 1440 * MINUTE_NS
MONTH = "1M"
# The fixed-width timeframes (every timeframe but the calendar month).
TIMEFRAMES: dict[str, int] = {
    "1m": MINUTE_NS,
    "3m": 3 * MINUTE_NS,
    "5m": 5 * MINUTE_NS,
    "15m": 15 * MINUTE_NS,
    "30m": 30 * MINUTE_NS,
    "1h": 60 * MINUTE_NS,
    "2h": 120 * MINUTE_NS,
    "4h": 240 * MINUTE_NS,
    "6h": 360 * MINUTE_NS,
    "8h": 480 * MINUTE_NS,
    "12h": 720 * MINUTE_NS,
    "1d": DAY_NS,
    "3d": 3 * DAY_NS,
    "1w": 7 * DAY_NS,
}
ALL_TIMEFRAMES: tuple[str, ...] = (*TIMEFRAMES, MONTH)
SHORTEST_MONTH_NS = 28 * DAY_NS
WEEK_ORIGIN_NS = 4 * DAY_NS  # Monday 1970-01-05
# Each roll-up is built from a finer timeframe whose buckets nest in it (same origin, divides it);
# in dependency order: a source is always built before the timeframes built from it.
ROLLUP_SOURCE: dict[str, str] = {
    "3m": "1m",
    "5m": "1m",
    "15m": "5m",
    "30m": "15m",
    "1h": "30m",
    "2h": "1h",
    "4h": "2h",
    "6h": "2h",
    "8h": "4h",
    "12h": "4h",
    "1d": "12h",
    "3d": "1d",
    "1w": "1d",
    MONTH: "1d",
}


class TimeframeError(ValueError):
    """An unknown timeframe, or a fixed width asked of the calendar month."""


def check_timeframe(timeframe: str) -> str:
    """``timeframe`` if it is one of the fifteen, else ``TimeframeError`` listing them."""
    if timeframe not in TIMEFRAMES and timeframe != MONTH:
        raise TimeframeError(f"unknown timeframe {timeframe!r}: use one of {', '.join(ALL_TIMEFRAMES)}")
    return timeframe


def width_ns(timeframe: str) -> int:
    """The fixed width of ``timeframe``; the calendar month has none (``TimeframeError``)."""
    if check_timeframe(timeframe) == MONTH:
        raise TimeframeError("1M (calendar month) has no fixed width")
    return TIMEFRAMES[timeframe]


def origin_ns(timeframe: str) -> int:
    return WEEK_ORIGIN_NS if timeframe == "1w" else 0


def _month_start_ns(year: int, month: int) -> int:
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1_000_000_000


def bucket_start(ts_ns: int, timeframe: str) -> int:
    """The open time of the ``timeframe`` bucket holding ``ts_ns`` (floor, also before the origin)."""
    if check_timeframe(timeframe) == MONTH:
        day = time.gmtime(ts_ns // 1_000_000_000)
        return _month_start_ns(day.tm_year, day.tm_mon)
    width = TIMEFRAMES[timeframe]
    origin = origin_ns(timeframe)
    return ts_ns - (ts_ns - origin) % width


def bucket_end(open_ns: int, timeframe: str) -> int:
    """The close time (exclusive) of the bucket opening at ``open_ns``: the next bucket's open."""
    if check_timeframe(timeframe) == MONTH:
        day = time.gmtime(open_ns // 1_000_000_000)
        year, month = (day.tm_year + 1, 1) if day.tm_mon == 12 else (day.tm_year, day.tm_mon + 1)
        return _month_start_ns(year, month)
    return open_ns + TIMEFRAMES[timeframe]


def bucket_sql(timeframe: str, column: str) -> str:
    """SQL giving the open time of ``column``'s (bigint ns) bucket, as ``bucket_start`` does.

    The month floors whole seconds (its sources, day candles, open on whole days)."""
    if check_timeframe(timeframe) == MONTH:
        return (
            "CAST(extract(epoch FROM date_trunc('month', "
            f"to_timestamp(div({column}, 1000000000)) AT TIME ZONE 'UTC')) AS bigint) * 1000000000"
        )
    width = TIMEFRAMES[timeframe]
    origin = origin_ns(timeframe)
    return f"({column} - (({column} - {origin}) % {width} + {width}) % {width})"
