"""Timeframes and bucket arithmetic on integer nanoseconds (UTC).

Buckets are aligned to the epoch except weeks, which start on Monday (1970-01-05) as exchanges do.
"""

from __future__ import annotations

MINUTE_NS = 60 * 1_000_000_000
TIMEFRAMES: dict[str, int] = {
    "1m": MINUTE_NS,
    "5m": 5 * MINUTE_NS,
    "15m": 15 * MINUTE_NS,
    "1h": 60 * MINUTE_NS,
    "4h": 240 * MINUTE_NS,
    "1d": 1440 * MINUTE_NS,
    "1w": 7 * 1440 * MINUTE_NS,
}
WEEK_ORIGIN_NS = 4 * 1440 * MINUTE_NS  # Monday 1970-01-05
# Each roll-up is built from the next finer timeframe that divides it (and shares its origin).
ROLLUP_SOURCE: dict[str, str] = {"5m": "1m", "15m": "5m", "1h": "15m", "4h": "1h", "1d": "4h", "1w": "1d"}


class TimeframeError(ValueError):
    """An unknown timeframe."""


def width_ns(timeframe: str) -> int:
    try:
        return TIMEFRAMES[timeframe]
    except KeyError:
        raise TimeframeError(f"unknown timeframe {timeframe!r}: use one of {', '.join(TIMEFRAMES)}") from None


def origin_ns(timeframe: str) -> int:
    return WEEK_ORIGIN_NS if timeframe == "1w" else 0


def bucket_start(ts_ns: int, timeframe: str) -> int:
    """The open time of the ``timeframe`` bucket holding ``ts_ns`` (floor, also before the origin)."""
    width = width_ns(timeframe)
    origin = origin_ns(timeframe)
    return ts_ns - (ts_ns - origin) % width
