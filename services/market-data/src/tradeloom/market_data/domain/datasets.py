"""CSV of OHLCV bars → validated bars, or a report of every bad row (nothing partial).

Columns are found by header name (common aliases, case-insensitive) or an explicit mapping.
Timestamps: ISO 8601 (an offset wins; without one the given timezone applies) or epoch numbers in
seconds, milliseconds, microseconds or nanoseconds (by magnitude). Rules per row: parseable, no
NaN/infinity, time strictly increasing (equal = duplicate), high ≥ max(open, close),
low ≤ min(open, close), volume ≥ 0.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tradeloom.market_data.domain.candles import Bar

FIELDS = ("time", "open", "high", "low", "close", "volume")
ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "date", "datetime", "ts", "open_time", "opentime", "date_time"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "adj_close"),
    "volume": ("volume", "vol", "v", "base_volume"),
}
MAX_REPORTED = 1000


class DatasetFormatError(ValueError):
    """The file as a whole is unusable (no header, missing columns, unknown timezone)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BadRow:
    line: int  # 1-based line in the file, the header being line 1
    reason: str


@dataclass(frozen=True)
class ParsedCsv:
    bars: list[Bar]
    bad_rows: list[BadRow]  # the first MAX_REPORTED
    bad_row_count: int


def _columns(header: list[str], mapping: dict[str, str] | None) -> dict[str, int]:
    lowered = {name.strip().lower(): i for i, name in enumerate(header)}
    found: dict[str, int] = {}
    for field in FIELDS:
        if mapping and field in mapping:
            wanted = mapping[field].strip().lower()
            if wanted not in lowered:
                raise DatasetFormatError(
                    "columns", f"mapped column {mapping[field]!r} for {field} is not in the header"
                )
            found[field] = lowered[wanted]
            continue
        for alias in ALIASES[field]:
            if alias in lowered:
                found[field] = lowered[alias]
                break
    unknown = set(mapping or {}) - set(FIELDS)
    if unknown:
        raise DatasetFormatError("columns", f"unknown target columns {sorted(unknown)}; use {list(FIELDS)}")
    missing = [f for f in FIELDS if f not in found]
    if missing:
        raise DatasetFormatError(
            "columns", f"no column for {missing}; header is {header}, map them with columns"
        )
    return found


def parse_time(raw: str, zone: ZoneInfo) -> int:
    text = raw.strip()
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is not None:
        if not number.is_finite() or number < 0:
            raise ValueError(f"bad epoch time {raw!r}")
        magnitude = abs(number)
        scale = (
            10**9
            if magnitude < 10**11
            else 10**6
            if magnitude < 10**14
            else 10**3
            if magnitude < 10**17
            else 1
        )
        return int(number * scale)
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return int(moment.timestamp()) * 10**9 + moment.microsecond * 1000


def _number(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"{name} is not a number: {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"{name} is {raw.strip()} (NaN/infinity not allowed)")
    return value


def parse_ohlcv_csv(text: str, mapping: dict[str, str] | None = None, timezone: str = "UTC") -> ParsedCsv:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DatasetFormatError("timezone", f"unknown timezone {timezone!r}") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise DatasetFormatError("data", "the file is empty: a header row is required")
    columns = _columns(header, mapping)
    bars: list[Bar] = []
    bad: list[BadRow] = []
    bad_count = 0
    previous: int | None = None
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        try:
            values = {f: row[i] for f, i in columns.items()}
        except IndexError:
            reason = f"expected at least {max(columns.values()) + 1} columns, found {len(row)}"
        else:
            reason, bar, ts = _check_row(values, zone, previous)
            if ts is not None:  # order is checked against every row with a readable time
                previous = ts if previous is None else max(previous, ts)
            if bar is not None:
                bars.append(bar)
                continue
        bad_count += 1
        if len(bad) < MAX_REPORTED:
            bad.append(BadRow(line, reason))
    return ParsedCsv(bars, bad, bad_count)


def _check_row(
    values: dict[str, str], zone: ZoneInfo, previous: int | None
) -> tuple[str, Bar | None, int | None]:
    try:
        ts = parse_time(values["time"], zone)
    except ValueError as error:
        return f"time: {error}", None, None
    try:
        o, h, lo, c, v = (_number(values[f], f) for f in ("open", "high", "low", "close", "volume"))
    except ValueError as error:
        return str(error), None, ts
    problems = []
    if previous is not None and ts == previous:
        problems.append("duplicate timestamp")
    elif previous is not None and ts < previous:
        problems.append("time goes backwards")
    if h < max(o, c):
        problems.append("high below max(open, close)")
    if lo > min(o, c):
        problems.append("low above min(open, close)")
    if v < 0:
        problems.append("negative volume")
    if problems:
        return "; ".join(problems), None, ts
    return "", Bar(ts, o, h, lo, c, v, 0), ts


def typical_interval(times: list[int]) -> int | None:
    """The most common spacing between consecutive bars (None for fewer than two)."""
    if len(times) < 2:
        return None
    return Counter(b - a for a, b in pairwise(times)).most_common(1)[0][0]
