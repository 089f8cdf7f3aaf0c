"""CSV of OHLCV bars → validated bars, or a report of every bad row (nothing partial).

Columns are found by header name (common aliases, case-insensitive) or an explicit mapping.
Timestamps: ISO 8601 (an offset wins; without one the given timezone applies) or epoch numbers in
seconds, milliseconds, microseconds or nanoseconds (by magnitude). Rules per row: parseable, no
NaN/infinity, prices in [``MIN_PRICE``, ``MAX_PRICE``], volume in [0, ``MAX_VOLUME``], time strictly
increasing (equal = duplicate), low ≤ high, low ≤ open, close ≤ high. Every bad row names its line
and the column (the file's header name) that is wrong; a field too long for the CSV reader
(over 131,072 characters) is a bad row too, not a crash.

The bounds keep every bar usable downstream: backtests compute in float64, where 1e308 overflows
to infinity and a zero price divides by zero.
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
    "factor": ("factor", "adj_factor", "adjustment_factor"),
}
OPTIONAL = ("factor",)  # an adjustment factor per bar (see ``preprocess.adjust``), kept as a column
MAX_FACTOR = Decimal("1e9")
MAX_REPORTED = 1000
PRICES = ("open", "high", "low", "close")
MIN_PRICE = Decimal("1e-12")
MAX_PRICE = Decimal("1e15")
MAX_VOLUME = Decimal("1e18")
MAX_NS = 2**63 - 1  # the store's bigint; also bounds epoch numbers before any arithmetic on them
MAX_REASON = 200  # characters of a reason (a reason may quote the field)


class DatasetFormatError(ValueError):
    """The file as a whole is unusable (no header, missing columns, unknown timezone)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class BadRow:
    line: int  # 1-based line in the file, the header being line 1
    reason: str
    column: str | None = None  # the header name of the first wrong column (None: the whole row)


class RowError(ValueError):
    """One row's first problem: the canonical field it is in (None: the row as a whole), and why."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ParsedCsv:
    bars: list[Bar]
    bad_rows: list[BadRow]  # the first MAX_REPORTED
    bad_row_count: int
    factors: list[float] | None = None  # the file's factor column, one per bar (None: it has none)


def _columns(header: list[str], mapping: dict[str, str] | None) -> dict[str, int]:
    lowered = {name.strip().lower(): i for i, name in enumerate(header)}
    found: dict[str, int] = {}
    for field in (*FIELDS, *OPTIONAL):
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
    unknown = set(mapping or {}) - set(FIELDS) - set(OPTIONAL)
    if unknown:
        raise DatasetFormatError(
            "columns", f"unknown target columns {sorted(unknown)}; use {[*FIELDS, *OPTIONAL]}"
        )
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
        if not number.is_finite() or number < 0 or number > MAX_NS:
            raise ValueError(f"bad epoch time {text[:40]!r}")
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
        ns = int(number * scale)
        if ns > MAX_NS:
            raise ValueError(f"epoch time {text[:40]!r} is out of range (1970 to 2262)")
        return ns
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"Invalid isoformat string: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    ns = int(moment.timestamp()) * 10**9 + moment.microsecond * 1000
    if not 0 <= ns <= MAX_NS:
        raise ValueError(f"time {text[:40]!r} is out of range (1970 to 2262)")
    return ns


def _number(raw: str, name: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise RowError(name, f"{name} is not a number: {raw[:40]!r}") from None
    if not value.is_finite():
        raise RowError(name, f"{name} is {raw.strip()} (NaN/infinity not allowed)")
    if name in PRICES and not MIN_PRICE <= value <= MAX_PRICE:
        raise RowError(
            name, f"{name} is {raw.strip()[:40]}: a price must be in [{MIN_PRICE:f}, {MAX_PRICE:f}]"
        )
    if name == "volume" and not 0 <= value <= MAX_VOLUME:
        raise RowError(name, f"volume is {raw.strip()[:40]}: it must be in [0, {MAX_VOLUME:f}]")
    return value


def parse_ohlcv_csv(text: str, mapping: dict[str, str] | None = None, timezone: str = "UTC") -> ParsedCsv:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise DatasetFormatError("timezone", f"unknown timezone {timezone!r}") from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise DatasetFormatError("data", f"the header row is not readable CSV: {error}") from None
    if not header:
        raise DatasetFormatError("data", "the file is empty: a header row is required")
    columns = _columns(header, mapping)
    names = {field: header[i].strip() for field, i in columns.items()}
    bars: list[Bar] = []
    factors: list[float] = []
    bad: list[BadRow] = []
    bad_count = 0
    previous: int | None = None
    while True:
        try:
            row = next(reader, None)
        except csv.Error as error:  # e.g. a field over the reader's 131,072 characters
            problem: RowError | None = RowError(None, f"not readable CSV: {error}")
        else:
            if row is None:
                break
            if not row or all(not cell.strip() for cell in row):
                continue
            problem, bar, ts, factor = _check_row(row, columns, zone, previous)
            if ts is not None:  # order is checked against every row with a readable time
                previous = ts if previous is None else max(previous, ts)
            if bar is not None:
                bars.append(bar)
                if factor is not None:
                    factors.append(factor)
                continue
        assert problem is not None
        bad_count += 1
        if len(bad) < MAX_REPORTED:
            column = names[problem.field] if problem.field else None
            bad.append(BadRow(reader.line_num, str(problem)[:MAX_REASON], column))
    return ParsedCsv(bars, bad, bad_count, factors if "factor" in columns else None)


def _factor(raw: str) -> float:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise RowError("factor", f"factor is not a number: {raw.strip()[:40]!r}") from None
    if not value.is_finite() or not 0 < value <= MAX_FACTOR:
        raise RowError("factor", f"factor is {raw.strip()[:40]}: it must be in (0, {MAX_FACTOR:f}]")
    return float(value)


def _check_row(
    row: list[str], columns: dict[str, int], zone: ZoneInfo, previous: int | None
) -> tuple[RowError | None, Bar | None, int | None, float | None]:
    """The row's bar (and factor, when the file has that column), or its first problem; and its
    time when readable (for the order check)."""
    ts: int | None = None
    try:
        if len(row) <= max(columns.values()):
            expected = max(columns.values()) + 1
            raise RowError(None, f"expected at least {expected} columns, found {len(row)}")
        values = {f: row[i] for f, i in columns.items()}
        try:
            ts = parse_time(values["time"], zone)
        except ValueError as error:
            raise RowError("time", f"time: {error}") from None
        bar = _bar(ts, values, previous)
        return None, bar, ts, _factor(values["factor"]) if "factor" in values else None
    except RowError as error:
        return error, None, ts, None


def _bar(ts: int, values: dict[str, str], previous: int | None) -> Bar:
    o, h, lo, c, v = (_number(values[f], f) for f in ("open", "high", "low", "close", "volume"))
    if previous is not None and ts == previous:
        raise RowError("time", "duplicate timestamp")
    if previous is not None and ts < previous:
        raise RowError("time", "time goes backwards")
    if h < lo:
        raise RowError("high", f"high {h} below low {lo}")
    if h < max(o, c):
        raise RowError("high", "high below max(open, close)")
    if lo > min(o, c):
        raise RowError("low", "low above min(open, close)")
    return Bar(ts, o, h, lo, c, v, 0)


def typical_interval(times: list[int]) -> int | None:
    """The most common spacing between consecutive bars (None for fewer than two)."""
    if len(times) < 2:
        return None
    return Counter(b - a for a, b in pairwise(times)).most_common(1)[0][0]
