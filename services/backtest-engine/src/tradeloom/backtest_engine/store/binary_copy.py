"""Rows for ``COPY … FROM STDIN (FORMAT binary)`` built with numpy, without a Python loop per row.

Every column here has a fixed width (or is all-NULL, or one constant text value), so a row is one
numpy record of big-endian fields: the field count, then for each column its byte length (−1 for
NULL) and value. Thousands of trades encode in well under a millisecond, where building and
binding Python lists took tens of milliseconds.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
TRAILER = struct.pack(">h", -1)
# Postgres type → big-endian numpy type of its binary form
WIDTHS = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8", "float8": ">f8"}


@dataclass(frozen=True)
class Column:
    """One column: ``values`` (one per row) of ``pg_type``, or ``None`` for all NULL, or ``text``
    for one constant text value in every row."""

    name: str
    pg_type: str
    values: npt.NDArray[np.generic] | None = None
    text: str | None = None


def binary_copy(rows: int, columns: list[Column]) -> bytes:
    """The whole COPY payload (header, rows, trailer) of ``rows`` rows."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, column in enumerate(columns):
        fields.append((f"len{i}", ">i4"))
        if column.text is not None:
            fields.append((f"val{i}", f"S{len(column.text.encode())}"))
        elif column.values is not None:
            fields.append((f"val{i}", WIDTHS[column.pg_type]))
    records = np.empty(rows, dtype=np.dtype(fields))
    records["count"] = len(columns)
    for i, column in enumerate(columns):
        if column.text is not None:
            encoded = column.text.encode()
            records[f"len{i}"] = len(encoded)
            records[f"val{i}"] = encoded
        elif column.values is None:
            records[f"len{i}"] = -1
        else:
            records[f"len{i}"] = np.dtype(WIDTHS[column.pg_type]).itemsize
            records[f"val{i}"] = column.values
    return HEADER + records.tobytes() + TRAILER
