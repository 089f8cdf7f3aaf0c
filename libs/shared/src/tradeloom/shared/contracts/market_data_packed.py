"""Candles as one binary frame (``svc.market-data.candles_packed``; part of ``contracts.market_data``).

The request is ``CandleColumnsRequest`` (same fields, rules, errors and cursor). A successful reply
is **not JSON**: it is one frame of raw little-endian columns, so neither side encodes base64 or
JSON of the arrays (``candles_columns`` stays for callers that want JSON):

    b"TLC1"                         4 bytes, the magic (a JSON reply starts with "{")
    header length                   little-endian uint32 (the header's bytes, padding included)
    header                          UTF-8 JSON of ``CandlesPackedHeader``, padded with spaces so
                                    the columns start at a multiple of 8 bytes
    columns                         for each name in ``header.columns``, in that order,
                                    ``count`` little-endian values of 8 bytes each

Errors are the usual JSON ``{"error": {...}}`` reply. Prices and volumes are the nearest float64
of the stored decimals: fine for numerics, **not for money** (``candles`` stays the exact-decimal
source). A page of 10,000 candles is 560 kB plus the header (under NATS' 1 MiB reply limit).
"""

from __future__ import annotations

import json
import struct
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAGIC = b"TLC1"
_LENGTH = struct.Struct("<I")
PACKED_COLUMNS: tuple[tuple[str, Literal["<i8", "<f8"]], ...] = (
    ("open_ns", "<i8"),
    ("open", "<f8"),
    ("high", "<f8"),
    ("low", "<f8"),
    ("close", "<f8"),
    ("volume", "<f8"),
    ("trade_count", "<i8"),
)


class PackedColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(examples=["open_ns"])
    dtype: Literal["<i8", "<f8"] = Field(
        examples=["<i8"], description="numpy dtype: little-endian int64 or IEEE-754 float64"
    )


class CandlesPackedHeader(BaseModel):
    """The JSON header of a ``candles_packed`` frame (see the module: magic, uint32 length, this
    header padded to 8 bytes, then ``count`` values of each column in ``columns`` order).
    ``next_cursor`` is the ``candles`` op's: pass it back as ``cursor`` for the next page."""

    model_config = ConfigDict(extra="forbid")

    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    timeframe: str = Field(examples=["1h"])
    count: int = Field(ge=0, le=10_000, examples=[1], description="candles in this page")
    columns: list[PackedColumn] = Field(
        examples=[[{"name": name, "dtype": dtype} for name, dtype in PACKED_COLUMNS]],
        description="the columns after the header, in order: open_ns, open, high, low, close, "
        "volume, trade_count",
    )
    next_cursor: str | None = Field(default=None, examples=["1704067200000000000"])


class MalformedFrame(ValueError):
    """Bytes that are not a ``candles_packed`` frame."""


def default_columns() -> list[PackedColumn]:
    return [PackedColumn(name=name, dtype=dtype) for name, dtype in PACKED_COLUMNS]


def pack_frame(header: CandlesPackedHeader, columns: list[bytes]) -> bytes:
    """One frame: magic, header length, padded header, then ``columns`` (each ``count`` × 8 bytes,
    in ``header.columns`` order)."""
    if len(columns) != len(header.columns) or any(len(c) != 8 * header.count for c in columns):
        raise ValueError(f"every column must hold {header.count} 8-byte values")
    encoded = header.model_dump_json().encode()
    encoded += b" " * (-(len(MAGIC) + _LENGTH.size + len(encoded)) % 8)
    return b"".join([MAGIC, _LENGTH.pack(len(encoded)), encoded, *columns])


def unpack_frame(payload: bytes) -> tuple[CandlesPackedHeader, list[memoryview]]:
    """The header and each column's bytes (views of ``payload``, no copy); raises
    ``MalformedFrame``."""
    if payload[: len(MAGIC)] != MAGIC or len(payload) < len(MAGIC) + _LENGTH.size:
        raise MalformedFrame("not a candles frame (no magic)")
    (length,) = _LENGTH.unpack_from(payload, len(MAGIC))
    start = len(MAGIC) + _LENGTH.size
    try:
        header = CandlesPackedHeader.model_validate(json.loads(payload[start : start + length]))
    except ValueError as error:
        raise MalformedFrame(f"the frame's header is malformed: {error}") from error
    size = 8 * header.count
    offset = start + length
    if len(payload) != offset + size * len(header.columns):
        raise MalformedFrame(
            f"the frame does not hold {len(header.columns)} columns of {header.count} values"
        )
    view = memoryview(payload)
    return header, [view[offset + i * size : offset + (i + 1) * size] for i in range(len(header.columns))]
