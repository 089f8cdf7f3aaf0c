"""Calendar-day PnL of an equity curve stamped with UTC nanosecond times."""

from __future__ import annotations

import numpy as np

from tradeloom.quant.types import FloatArray, IntArray

NS_PER_DAY = 86_400 * 1_000_000_000


def daily_pnl(equity: FloatArray, time: IntArray, initial: float) -> tuple[IntArray, FloatArray]:
    """(UTC day start in ns, PnL of that day): the change of the day's last equity from the previous
    day's last equity (the initial capital before the first day). ``time`` must be ascending."""
    if equity.size == 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    day = time // NS_PER_DAY
    last = np.flatnonzero(np.append(day[1:] != day[:-1], True))
    closes = equity[last]
    pnl = np.diff(np.concatenate([[initial], closes]))
    return day[last] * NS_PER_DAY, pnl
