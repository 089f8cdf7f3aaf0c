"""Replay files → trades: a file of trades, or OHLCV bars turned into trades.

Trades files: columns time (``time|timestamp|ts|datetime|date``), price, amount
(``amount|qty|quantity|size|volume``), optional side (``buy``/``sell``; missing → tick rule: an
up-tick is a buy, a down-tick a sell, unchanged repeats the previous side, the first is a buy) and
optional trade id (``trade_id|id|tid``; missing → ``row<line>``). Times as in datasets (ISO 8601 or
epoch s/ms/µs/ns). Rows must be in non-decreasing time order.

Bars files (validated by the dataset rules): each bar becomes four trades, in the order
open, the extreme nearer the open's side first — low then high for an up bar (close ≥ open), high
then low for a down bar — then close, at the bar's start + 0, ¼, ½ and ¾ of the bar interval. Each
carries a quarter of the volume (the close takes the rounding remainder, so the sum is exact); ids
are ``bar<n>-o|h|l|c`` (n = 1-based bar number). The 1-minute candles of those trades reproduce
a 1-minute bar exactly.

Ids depend only on the file, so a restarted replay re-sends the same trades and the store keeps
each once. Anything unusable raises ``ReplayFileError`` naming the line and the field.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from tradeloom.market_data.domain.datasets import (
    DatasetFormatError,
    parse_ohlcv_csv,
    parse_time,
    typical_interval,
)
from tradeloom.shared.contracts.market_data import TradeTick

TRADE_ALIASES: dict[str, tuple[str, ...]] = {
    "time": ("time", "timestamp", "ts", "datetime", "date", "ts_ns"),
    "price": ("price", "p"),
    "amount": ("amount", "qty", "quantity", "size", "volume", "q"),
    "side": ("side",),
    "trade_id": ("trade_id", "id", "tid"),
}
REQUIRED = ("time", "price", "amount")
MAX_REPORTED = 20


class ReplayFileError(ValueError):
    """A replay file that cannot be replayed (the message names lines and fields)."""


def _find_columns(header: list[str]) -> dict[str, int]:
    lowered = {name.strip().lower(): i for i, name in enumerate(header)}
    found = {}
    for field, aliases in TRADE_ALIASES.items():
        for alias in aliases:
            if alias in lowered:
                found[field] = lowered[alias]
                break
    missing = [f for f in REQUIRED if f not in found]
    if missing:
        raise ReplayFileError(f"trades file: no column for {missing}; header is {header}")
    return found


def _number(raw: str, field: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"{field} is not a number: {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"{field} is {raw.strip()} (NaN/infinity not allowed)")
    return value


def trades_from_text(text: str) -> list[TradeTick]:
    """Validated trades of a trades CSV (all rows or a ``ReplayFileError`` listing bad ones)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise ReplayFileError("trades file is empty: a header row is required")
    columns = _find_columns(header)
    utc = ZoneInfo("UTC")
    trades: list[TradeTick] = []
    bad: list[str] = []
    previous_price: Decimal | None = None
    side = "buy"
    for line, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        try:
            values = {f: row[i] for f, i in columns.items()}
            ts_ns = parse_time(values["time"], utc)
            price = _number(values["price"], "price")
            amount = _number(values["amount"], "amount")
            if price <= 0:
                raise ValueError("price must be > 0")
            if amount < 0:
                raise ValueError("amount must be ≥ 0")
            if trades and ts_ns < trades[-1].ts_ns:
                raise ValueError("time goes backwards (rows must be in time order)")
            if "side" in values:
                side = values["side"].strip().lower()
            elif previous_price is not None and price != previous_price:
                side = "buy" if price > previous_price else "sell"
            trade_id = values["trade_id"].strip() if "trade_id" in values else f"row{line}"
            trades.append(TradeTick(trade_id=trade_id, ts_ns=ts_ns, price=price, amount=amount, side=side))
            previous_price = price
        except IndexError:
            bad.append(f"line {line}: expected {max(columns.values()) + 1} columns, found {len(row)}")
        except ValidationError as error:
            fields = ", ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
            bad.append(f"line {line}: {fields}")
        except ValueError as error:
            bad.append(f"line {line}: {error}")
    if bad:
        raise ReplayFileError(f"{len(bad)} bad rows: " + "; ".join(bad[:MAX_REPORTED]))
    return trades


def _quarters(volume: Decimal) -> list[Decimal]:
    quarter = (volume / 4).quantize(Decimal(1).scaleb(min(volume.as_tuple().exponent, 0) - 2))  # type: ignore[operator]
    return [quarter, quarter, quarter, volume - 3 * quarter]


def trades_from_bars_text(
    text: str, interval_ns: int | None = None, timezone: str = "UTC"
) -> list[TradeTick]:
    """Four trades per bar of an OHLCV CSV (see the module docstring for the order)."""
    try:
        parsed = parse_ohlcv_csv(text, None, timezone)
    except DatasetFormatError as error:
        raise ReplayFileError(f"bars file: {error}") from None
    if parsed.bad_row_count:
        reasons = "; ".join(f"line {row.line}: {row.reason}" for row in parsed.bad_rows[:MAX_REPORTED])
        raise ReplayFileError(f"{parsed.bad_row_count} bad rows: {reasons}")
    interval = interval_ns or typical_interval([bar.open_ns for bar in parsed.bars]) or 60 * 10**9
    trades: list[TradeTick] = []
    for index, bar in enumerate(parsed.bars):
        up = bar.close >= bar.open
        path = (
            [("o", bar.open), ("l", bar.low), ("h", bar.high), ("c", bar.close)]
            if up
            else [("o", bar.open), ("h", bar.high), ("l", bar.low), ("c", bar.close)]
        )
        sides = ["buy", "sell", "buy", "buy" if up else "sell"] if up else ["sell", "buy", "sell", "sell"]
        for k, ((tag, price), amount, side) in enumerate(
            zip(path, _quarters(bar.volume), sides, strict=True)
        ):
            trades.append(
                TradeTick(
                    trade_id=f"bar{index + 1}-{tag}",
                    ts_ns=bar.open_ns + k * interval // 4,
                    price=price,
                    amount=amount,
                    side=side,
                )
            )
    return trades
