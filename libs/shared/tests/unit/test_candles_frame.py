"""The ``candles_packed`` frame (``contracts.market_data_packed``): round trip, alignment, refusals."""

from __future__ import annotations

import struct

import pytest

from tradeloom.shared.contracts.market_data_packed import (
    MAGIC,
    CandlesPackedHeader,
    MalformedFrame,
    default_columns,
    pack_frame,
    unpack_frame,
)


def header(count: int, cursor: str | None = None) -> CandlesPackedHeader:
    return CandlesPackedHeader(venue="sim", symbol="BTC/USDT", timeframe="1m", count=count,
                               columns=default_columns(), next_cursor=cursor)  # fmt: skip


def columns(count: int) -> list[bytes]:
    return [struct.pack(f"<{count}d", *(float(i * 10 + j) for j in range(count))) for i in range(7)]


@pytest.mark.parametrize("count", [0, 1, 3, 10_000])
def test_a_frame_round_trips_with_its_columns_aligned_to_8_bytes(count: int) -> None:
    frame = pack_frame(header(count, "42"), columns(count))
    assert frame[:4] == MAGIC
    (length,) = struct.unpack_from("<I", frame, 4)
    assert (8 + length) % 8 == 0 and len(frame) == 8 + length + 7 * 8 * count
    got, views = unpack_frame(frame)
    assert got == header(count, "42")
    assert [bytes(v) for v in views] == columns(count)


def test_malformed_frames_are_refused() -> None:
    good = pack_frame(header(2), columns(2))
    bad = [
        b'{"error": {}}',  # JSON, not a frame
        b"TLC",  # too short
        good[:-1],  # a column short
        good + b"\x00" * 8,  # trailing bytes
        MAGIC + struct.pack("<I", 4) + b"{no}",  # header not JSON
        MAGIC + struct.pack("<I", 8) + b'{"a": 1}',  # header not the model
    ]
    for payload in bad:
        with pytest.raises(MalformedFrame):
            unpack_frame(payload)
    with pytest.raises(ValueError, match="2 8-byte values"):
        pack_frame(header(2), columns(3))
