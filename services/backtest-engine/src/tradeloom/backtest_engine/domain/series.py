"""Compact storage of numeric series (float64/int64 little-endian bytes) and CSV rendering."""

from __future__ import annotations

import io
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
