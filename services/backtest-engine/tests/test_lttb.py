"""LTTB downsampling: the numpy version equals the plain-loop reference; shape properties hold."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.backtest_engine.domain.lttb import downsample, lttb_indices, lttb_indices_reference


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.integers(-1_000_000, 1_000_000), min_size=0, max_size=400),
    st.integers(0, 60),
)
def test_numpy_lttb_equals_the_reference(values: list[int], n_out: int) -> None:
    # integer values keep every bucket mean exact, so both versions see identical areas
    y = np.array(values, dtype=np.float64)
    x = np.arange(y.size, dtype=np.float64)
    expected = lttb_indices_reference(x.tolist(), y.tolist(), n_out)
    assert lttb_indices(x, y, n_out).tolist() == expected


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 3000), st.integers(3, 200), st.integers(0, 2**32 - 1))
def test_downsampled_series_keeps_ends_and_one_point_per_bucket(n: int, n_out: int, seed: int) -> None:
    y = np.cumsum(np.random.default_rng(seed).normal(size=n))
    kept = downsample(y, n_out)
    assert kept[0] == 0 and kept[-1] == n - 1
    assert len(kept) == min(n, n_out)
    assert np.all(np.diff(kept) > 0)


def test_worked_example_keeps_the_spike() -> None:
    """Ten points, a spike at 4 and a dip at 7: five points keep the ends, the spike and the dip."""
    y = np.array([0, 0, 0, 0, 10, 0, 0, -8, 0, 0], dtype=np.float64)
    assert lttb_indices(np.arange(10.0), y, 5).tolist() == [0, 2, 4, 7, 9]


def test_two_thousand_points_from_a_million() -> None:
    y = np.cumsum(np.random.default_rng(1).normal(size=1_000_000))
    kept = downsample(y, 2000)
    assert len(kept) == 2000 and kept[-1] == 999_999
