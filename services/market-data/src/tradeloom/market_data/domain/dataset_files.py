"""Uploaded files that are not CSV text: Parquet, sent as base64 text in the upload's chunks.

A Parquet file is read with pyarrow and written out as CSV (pandas' ``to_csv``: ISO times,
shortest-repr floats), then validated by ``parse_ohlcv_csv`` like any CSV — one set of column
aliases, rules and bad-row reports for both formats (a report's ``line`` is the row's index + 2,
the header being line 1, as if the file were that CSV). The replay source does the same.
"""

from __future__ import annotations

import base64
import binascii
import io

import pyarrow as pa
import pyarrow.parquet as pq

from tradeloom.market_data.domain.datasets import DatasetFormatError

FORMATS = ("csv", "parquet")


def file_bytes(chunk: str, file_format: str) -> int:
    """The file bytes a chunk carries (base64 text: three bytes per four characters)."""
    return len(chunk.encode()) if file_format == "csv" else len(chunk) * 3 // 4


def parquet_as_csv(base64_text: str) -> str:
    """The Parquet file in ``base64_text`` as CSV text; ``DatasetFormatError`` on field ``data``
    when the text is not base64 or the bytes are not a readable Parquet file."""
    try:
        raw = base64.b64decode("".join(base64_text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise DatasetFormatError("data", "a Parquet upload's chunks must be the file's base64 text") from None
    if not raw:
        raise DatasetFormatError("data", "the file is empty")
    try:
        table = pq.read_table(io.BytesIO(raw))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DatasetFormatError("data", f"not a readable Parquet file: {str(error)[:160]}") from None
    return str(table.to_pandas().to_csv(index=False))
