"""``sma_cross``'s loop for closes without NaN gives exactly the crosses of its NaN-aware loop (the
reference comparisons in test_strategies cover the NaN-aware one, warm-up NaNs included)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from quant_testkit import random_walk_bars

from tradeloom.quant.reference import signals as ref_signals
from tradeloom.quant.strategies.signals import _sma_crosses_finite, _sma_crosses_with_nans, sma_cross


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 3000), st.integers(0, 2**32 - 1), st.integers(1, 40), st.integers(1, 80))
def test_finite_loop_equals_the_nan_aware_loop(n: int, seed: int, fast: int, slow: int) -> None:
    close = random_walk_bars(n, seed).close
    for actual, expected in zip(
        _sma_crosses_finite(close, fast, slow), _sma_crosses_with_nans(close, fast, slow), strict=True
    ):
        np.testing.assert_array_equal(actual, expected)


def test_both_paths_of_sma_cross_equal_the_reference() -> None:
    close = random_walk_bars(5000, 11).close
    with_nans = close.copy()
    with_nans[:7] = np.nan
    for series in (close, with_nans):
        for actual, expected in zip(
            sma_cross(series, 10, 20, True)[:4], ref_signals.sma_cross(series, 10, 20, True)[:4], strict=True
        ):
            np.testing.assert_array_equal(actual, expected)
