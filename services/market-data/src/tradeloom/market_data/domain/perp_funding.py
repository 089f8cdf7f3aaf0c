"""A ccxt venue's funding data as rows: funding-rate history entries and the current mark.

Numbers are taken from the venue's raw strings (ccxt's ``info``) where it has them, so a rate such
as ``0.00010000`` stays exact; ccxt's float is the fallback. Anything malformed is refused with
``ValueError`` naming the field (the importer logs and skips it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MS = 1_000_000
DEFAULT_INTERVAL_S = 8 * 3600


@dataclass(frozen=True)
class FundingRow:
    funding_time_ns: int
    rate: Decimal
    mark_price: Decimal


@dataclass(frozen=True)
class VenueMark:
    mark_price: Decimal
    index_price: Decimal | None
    last_funding_rate: Decimal | None
    next_funding_time_ns: int
    ts_ns: int


def _number(raw: Any, field: str, *, positive: bool = False) -> Decimal:
    if raw is None or raw == "":
        raise ValueError(f"{field} is missing")
    try:
        number = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise ValueError(f"{field} is not a number: {raw!r}") from None
    if not number.is_finite() or (positive and number <= 0):
        raise ValueError(f"{field} must be a finite number{' > 0' if positive else ''}: {raw!r}")
    return number.normalize() if number != number.to_integral_value() else number.quantize(Decimal(1))


def _info(entry: dict[str, Any]) -> dict[str, Any]:
    info = entry.get("info")
    return info if isinstance(info, dict) else {}


def funding_row(entry: dict[str, Any]) -> FundingRow:
    """One ccxt funding-rate-history entry; the mark at that time from the venue's ``markPrice``
    (Binance's ``fundingRate`` rows carry it; a row without one is refused)."""
    info = _info(entry)
    timestamp = entry.get("timestamp")
    if not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError(f"timestamp is not a time in ms: {timestamp!r}")
    rate = _number(info.get("fundingRate", entry.get("fundingRate")), "fundingRate")
    mark = _number(info.get("markPrice", entry.get("markPrice")), "markPrice", positive=True)
    return FundingRow(timestamp * MS, rate, mark)


def venue_mark(entry: dict[str, Any], now_ns: int) -> VenueMark:
    """ccxt's ``fetch_funding_rate`` structure (Binance: ``premiumIndex``) as the current mark."""
    info = _info(entry)
    next_ms: Any = entry.get("fundingTimestamp") or info.get("nextFundingTime")
    try:
        next_ns = int(next_ms) * MS
    except (TypeError, ValueError):
        raise ValueError(f"nextFundingTime is not a time in ms: {next_ms!r}") from None
    index = info.get("indexPrice", entry.get("indexPrice"))
    rate = info.get("lastFundingRate", entry.get("fundingRate"))
    ts = entry.get("timestamp")
    return VenueMark(
        mark_price=_number(info.get("markPrice", entry.get("markPrice")), "markPrice", positive=True),
        index_price=None if index in (None, "") else _number(index, "indexPrice", positive=True),
        last_funding_rate=None if rate in (None, "") else _number(rate, "lastFundingRate"),
        next_funding_time_ns=next_ns,
        ts_ns=ts * MS if isinstance(ts, int) else now_ns,
    )


def funding_interval_s(times_ns: list[int]) -> int:
    """The venue's funding interval from its two newest funding times (whole seconds); 8 h before
    two are stored."""
    if len(times_ns) < 2 or times_ns[-1] <= times_ns[-2]:
        return DEFAULT_INTERVAL_S
    return max(1, round((times_ns[-1] - times_ns[-2]) / 1e9))
