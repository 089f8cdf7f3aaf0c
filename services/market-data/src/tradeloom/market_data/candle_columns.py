"""A candles page as base64 columns (``CandleColumnsReply``) or one binary frame (``candles_packed``),
built with numpy from the rows.

The store returns ``(open_ns, open, high, low, close, volume, trade_count)`` with the numbers
already cast by Postgres (float8, bigint), so no ``Decimal`` or model is built per candle: the rows
are transposed once (``zip``, in C) and each column becomes one little-endian numpy array, then one
base64 string. Timestamps stay int64 all the way (a float64 would round nanoseconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tradeloom.market_data.domain.b64_columns import b64, from_b64
from tradeloom.shared.contracts.market_data_columns import CandleColumnsReply
from tradeloom.shared.contracts.market_data_packed import CandlesPackedHeader, default_columns, pack_frame
from tradeloom.shared.rpc import RawReply

# column name, little-endian dtype, in the row order of ``store.candle_aggregates.CANDLE_FLOAT_COLUMNS``
COLUMNS: tuple[tuple[str, str], ...] = (
    ("open_ns", "<i8"),
    ("open", "<f8"),
    ("high", "<f8"),
    ("low", "<f8"),
    ("close", "<f8"),
    ("volume", "<f8"),
    ("trade_count", "<i8"),
)


def encode_columns(rows: Sequence[Sequence[Any]]) -> dict[str, str]:
    """Each column of ``rows`` as the base64 of its little-endian array."""
    transposed: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    return {
        name: b64(np.asarray(values, dtype=dtype))
        for (name, dtype), values in zip(COLUMNS, transposed, strict=True)
    }


def columns_reply(
    *, venue: str, symbol: str, timeframe: str, rows: Sequence[Sequence[Any]], next_cursor: str | None
) -> CandleColumnsReply:
    return CandleColumnsReply(
        venue=venue,
        symbol=symbol,
        timeframe=timeframe,
        count=len(rows),
        next_cursor=next_cursor,
        **encode_columns(rows),
    )


def packed_reply(
    *, venue: str, symbol: str, timeframe: str, rows: Sequence[Sequence[Any]], next_cursor: str | None
) -> RawReply:
    """The same page as one ``candles_packed`` frame: the raw little-endian columns, no base64."""
    transposed: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(COLUMNS)
    header = CandlesPackedHeader(venue=venue, symbol=symbol, timeframe=timeframe, count=len(rows),
                                 columns=default_columns(), next_cursor=next_cursor)  # fmt: skip
    columns = [
        np.asarray(values, dtype=dtype).tobytes()
        for (_, dtype), values in zip(COLUMNS, transposed, strict=True)
    ]
    return RawReply(pack_frame(header, columns))


def decode_columns(reply: dict[str, Any]) -> dict[str, np.ndarray]:
    """The arrays of a reply as JSON-decoded (for tests and in-process readers)."""
    return {name: from_b64(reply[name], dtype) for name, dtype in COLUMNS}
