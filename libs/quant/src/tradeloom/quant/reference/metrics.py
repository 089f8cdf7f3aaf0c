"""Reference drawdown episodes: a literal walk over the curve."""

from __future__ import annotations

from tradeloom.quant.types import FloatArray


def drawdown_episodes(equity: FloatArray, initial: float) -> list[tuple[int, int, int, float]]:
    episodes: list[tuple[int, int, int, float]] = []
    peak, peak_index = initial, -1
    current: list[float] | None = None  # [start, trough, end, depth]
    for i, value in enumerate(float(v) for v in equity):
        if value >= peak:
            if current is not None:
                current[2] = i
                episodes.append((int(current[0]), int(current[1]), int(current[2]), current[3]))
                current = None
            peak, peak_index = value, i
        elif current is None:
            current = [peak_index, i, -1, value / peak - 1]
        elif value / peak - 1 < current[3]:
            current[1], current[3] = i, value / peak - 1
    if current is not None:
        episodes.append((int(current[0]), int(current[1]), -1, current[3]))
    return episodes
