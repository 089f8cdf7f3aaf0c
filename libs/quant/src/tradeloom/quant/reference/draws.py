"""Plain-Python reference of ``tradeloom.quant.fills.draws.uniform_draw`` (SplitMix64 finaliser)."""

from __future__ import annotations

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


def _finalise(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def reference_uniform_draw(seed: int, counter: int) -> float:
    key = _finalise(((seed + 1) * GOLDEN) & MASK)
    z = _finalise((key + (counter + 1) * GOLDEN) & MASK)
    return (z >> 11) / float(1 << 53)
