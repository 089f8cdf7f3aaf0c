"""The allocator tuning applies on glibc (this image) and large arrays still allocate and free."""

import numpy as np

from tradeloom.quant.memory import heap_reuse_once, keep_large_allocations_on_heap


def test_thresholds_are_accepted_and_large_arrays_still_work() -> None:
    assert keep_large_allocations_on_heap() is True
    assert keep_large_allocations_on_heap() is True  # idempotent
    for _ in range(3):
        block = np.ones(2_000_000)  # 16 MB: from the heap now, reused on the next round
        assert float(block.sum()) == 2_000_000.0
        del block


def test_the_library_applies_it_on_its_own() -> None:
    """A library user who never calls it gets it from the simulator's first run."""
    from tradeloom.quant.simulator import Bars, Signals, run_simulation

    heap_reuse_once.cache_clear()
    ones = np.ones(5)
    run_simulation(Bars(ones, ones, ones, ones, ones), Signals(ones > 2, ones > 2))
    assert heap_reuse_once.cache_info().currsize == 1
