"""Compact storage of numeric series (float64/int64 little-endian bytes) and CSV rendering."""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def pack_floats(values: FloatArray) -> bytes:
    return np.ascontiguousarray(values, dtype="<f8").tobytes()


def pack_ints(values: IntArray) -> bytes:
    return np.ascontiguousarray(values, dtype="<i8").tobytes()


def unpack_floats(raw: bytes) -> FloatArray:
    return np.frombuffer(raw, dtype="<f8").astype(np.float64)


def unpack_ints(raw: bytes) -> IntArray:
    return np.frombuffer(raw, dtype="<i8").astype(np.int64)


# ``series.codec`` (migration 0014): RAW every array as is; COMPACT the times as zlib of their first
# value and differences, the position (a step function) as zlib of its values, the rest as is.
RAW, COMPACT = 0, 1


def pack_times_compact(values: IntArray) -> bytes:
    """Bar times as zlib (level 1: fast) of the first value and the differences (even spacing
    compresses to almost nothing; any spacing round-trips exactly)."""
    times = np.asarray(values, dtype=np.int64)
    steps: IntArray = np.empty_like(times)
    if times.size:
        steps[0] = times[0]
        np.subtract(times[1:], times[:-1], out=steps[1:])
    return zlib.compress(pack_ints(steps), 1)


def unpack_times(raw: bytes, codec: int) -> IntArray:
    if codec == COMPACT:
        return np.cumsum(unpack_ints(zlib.decompress(raw)), dtype=np.int64)
    return unpack_ints(raw)


def pack_floats_compact(values: FloatArray) -> bytes:
    return zlib.compress(pack_floats(values), 1)


def unpack_compact_floats(raw: bytes, codec: int) -> FloatArray:
    """A column that ``COMPACT`` compresses (the position)."""
    return unpack_floats(zlib.decompress(raw) if codec == COMPACT else raw)


def equity_csv(time: IntArray, equity: FloatArray, drawdown: FloatArray) -> bytes:
    """``time_ns,equity,drawdown`` with full float precision (repr round-trips)."""
    out = io.StringIO()
    out.write("time_ns,equity,drawdown\n")
    for t, e, d in zip(time.tolist(), equity.tolist(), drawdown.tolist(), strict=True):
        out.write(f"{t},{e!r},{d!r}\n")
    return out.getvalue().encode()


def daily_csv(day_ns: IntArray, pnl: FloatArray) -> bytes:
    """``day,day_ns,pnl``: the UTC date, its start in ns, and the day's PnL (repr round-trips)."""
    out = io.StringIO()
    out.write("day,day_ns,pnl\n")
    for t, p in zip(day_ns.tolist(), pnl.tolist(), strict=True):
        out.write(f"{datetime.fromtimestamp(t // 1_000_000_000, UTC).date().isoformat()},{t},{p!r}\n")
    return out.getvalue().encode()
