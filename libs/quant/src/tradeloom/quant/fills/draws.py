"""Counter-based uniform draws for the ``random`` slippage model (compiled; reference in
``reference/draws.py``).

A draw is a pure function of ``(seed, counter)``: SplitMix64's finaliser of the seed gives the
stream's key, and the finaliser of ``key + (counter + 1) × golden ratio`` gives draw ``counter`` —
so a run is reproducible from its seed alone, seeds do not share shifted streams, and the simulator
needs no random-generator state: the n-th fill of a run takes draw n.
"""

from __future__ import annotations

import numpy as np
from numba import njit

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
MIX_2 = np.uint64(0x94D049BB133111EB)
SHIFT_30, SHIFT_27, SHIFT_31, SHIFT_11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
ONE = np.uint64(1)
TWO_TO_MINUS_53 = 1.0 / 9_007_199_254_740_992.0


@njit(cache=True)
def finalise(z: np.uint64) -> np.uint64:
    z = (z ^ (z >> SHIFT_30)) * MIX_1
    z = (z ^ (z >> SHIFT_27)) * MIX_2
    return z ^ (z >> SHIFT_31)


@njit(cache=True)
def uniform_draw(seed: int, counter: int) -> float:
    """A uniform number in [0, 1) for draw ``counter`` (≥ 0) of ``seed`` (0 ≤ seed < 2**63)."""
    key = finalise((np.uint64(seed) + ONE) * GOLDEN)
    z = finalise(key + (np.uint64(counter) + ONE) * GOLDEN)
    return float(z >> SHIFT_11) * TWO_TO_MINUS_53
