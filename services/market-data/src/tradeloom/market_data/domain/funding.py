"""Funding of linear perpetuals on the synthetic venue: when it happens and at what rate.

Funding times are the multiples of ``FUNDING_INTERVAL_S`` (8 h) since the epoch: 00:00, 08:00 and
16:00 UTC, as most venues. The synthetic venue has no index to measure a premium against, so its
rate is the usual 0.01 % interest component plus a premium drawn deterministically from the symbol
and the funding time (within ±0.02 %, whole millionths): the same history on every run and replica.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal

FUNDING_INTERVAL_S = 8 * 3600
INTERVAL_NS = FUNDING_INTERVAL_S * 1_000_000_000
BASE_RATE = Decimal("0.0001")
PREMIUM_RANGE_MILLIONTHS = 200  # ±0.0002


def funding_times(after_ns: int, until_ns: int) -> list[int]:
    """The funding times ``t`` with ``after_ns < t <= until_ns``, oldest first."""
    first = (after_ns // INTERVAL_NS + 1) * INTERVAL_NS
    return list(range(first, until_ns + 1, INTERVAL_NS))


def next_funding_time(now_ns: int) -> int:
    """The first funding time strictly after ``now_ns``."""
    return (now_ns // INTERVAL_NS + 1) * INTERVAL_NS


def synthetic_rate(symbol: str, funding_time_ns: int) -> Decimal:
    """The synthetic venue's funding rate of ``symbol`` at ``funding_time_ns``."""
    digest = hashlib.sha256(f"{symbol}|{funding_time_ns}".encode()).digest()
    span = 2 * PREMIUM_RANGE_MILLIONTHS + 1
    premium = int.from_bytes(digest[:8], "big") % span - PREMIUM_RANGE_MILLIONTHS
    return BASE_RATE + Decimal(premium).scaleb(-6)
