"""The allocator tuning applies on glibc (this image) and large arrays still allocate and free."""

import numpy as np

from tradeloom.shared.allocator import keep_large_allocations_on_heap


def test_thresholds_are_accepted_and_large_arrays_still_work() -> None:
    assert keep_large_allocations_on_heap() is True
    assert keep_large_allocations_on_heap() is True  # idempotent
    for _ in range(3):
        block = np.ones(2_000_000)  # 16 MB: from the heap now, reused on the next round
        assert float(block.sum()) == 2_000_000.0
        del block
