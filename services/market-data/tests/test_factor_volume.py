"""Volume follows the splits in a factor column, not its dividends: a worked example and pandas."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.factor_splits import split_of
from tradeloom.market_data.domain.preprocess import Frame, run_steps

D = 86_400 * 10**9


def frame_of(factors: list[float], closes: list[float] | None = None, volume: int = 1000) -> Frame:
    closes = closes or [100.0] * len(factors)
    bars = [
        Bar(i * D, Decimal(repr(c)), Decimal(repr(c)), Decimal(repr(c)), Decimal(repr(c)), Decimal(volume), 1)
        for i, c in enumerate(closes)
    ]
    return Frame(bars, D, source_columns={"factor": {i * D: f for i, f in enumerate(factors)}})


def adjusted(frame: Frame, volume: str = "splits") -> dict[str, object]:
    return run_steps(frame, [{"op": "adjust", "factor_column": "factor", "actions": [], "volume": volume}])[0]


def test_worked_example_split_reverse_split_dividends() -> None:
    # newest first: a 2 % dividend before bar 7, a 2-for-1 split before bar 5, a 1-for-10 reverse split
    # before bar 4, a 3-for-2 split with a 1 % dividend on the same day before bar 3
    factors = [3.234, 3.234, 3.234, 4.9, 0.49, 0.98, 0.98, 1.0]
    frame = frame_of(factors)
    effect = adjusted(frame)
    assert [b.volume for b in frame.bars] == [
        Decimal(v) for v in (300, 300, 300, 200, 2000, 1000, 1000, 1000)
    ]
    assert [b.close for b in frame.bars] == [
        Decimal(v) for v in ("323.4",) * 3 + ("490", "49", "98", "98", "100")
    ]
    assert effect["splits"] == [
        {"ts_ns": 3 * D, "ratio": "3/2"},
        {"ts_ns": 4 * D, "ratio": "1/10"},
        {"ts_ns": 5 * D, "ratio": "2"},
    ]
    assert effect["unclassified_changes"] == 0
    unchanged = frame_of(factors)
    adjusted(unchanged, "unchanged")
    assert {b.volume for b in unchanged.bars} == {Decimal(1000)}


@pytest.mark.parametrize(
    ("ratio", "split"),
    [
        (Fraction(1), Fraction(1)),
        (Fraction(100, 98), Fraction(1)),  # a 2 % dividend
        (Fraction(2), Fraction(2)),
        (Fraction(2) / Fraction(85, 100), Fraction(2)),  # 2-for-1 with a 15 % dividend
        (Fraction(3, 2) / Fraction(99, 100), Fraction(3, 2)),
        (Fraction(1, 10), Fraction(1, 10)),
        (Fraction(20), Fraction(20)),
        (Fraction(13), None),  # no simple ratio within a 20 % dividend of 13
    ],
)
def test_a_factor_change_is_read_as_the_simple_split_within_a_dividend(
    ratio: Fraction, split: Fraction
) -> None:
    assert split_of(ratio) == split


def test_random_corporate_actions_match_pandas() -> None:
    """A vendor's factor built from known actions; volumes equal pandas' cumulative product of the
    true splits after each bar, prices pandas' close × factor / last factor."""
    rng = np.random.default_rng(5)
    n = 400
    splits = np.ones(n)  # splits[k]: the split at bar k (between bar k-1 and k)
    dividends = np.ones(n)  # 1 - dividend / close at bar k
    for k in rng.choice(np.arange(1, n), 12, replace=False):
        splits[k] = rng.choice([2.0, 3.0, 1.5, 4.0, 0.1, 0.5, 1.25, 10.0])
    for k in rng.choice(np.arange(1, n), 30, replace=False):
        dividends[k] = 1 - rng.uniform(0.001, 0.15)
    change = pd.Series(splits / dividends)  # factor after / factor before at each bar
    factor = (1 / change.iloc[::-1].cumprod().iloc[::-1].shift(-1, fill_value=1.0)).round(12)
    closes = (100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))).round(4)
    frame = frame_of(factor.tolist(), closes.tolist())
    effect = adjusted(frame)
    expected_volume = 1000 * pd.Series(splits).iloc[::-1].cumprod().iloc[::-1].shift(-1, fill_value=1.0)
    got_volume = np.array([float(b.volume) for b in frame.bars])
    assert np.allclose(got_volume, expected_volume.to_numpy(), rtol=1e-11)
    expected_close = pd.Series(closes) * factor / factor.iloc[-1]
    assert np.allclose([float(b.close) for b in frame.bars], expected_close.to_numpy(), rtol=1e-11)
    assert len(effect["splits"]) == int((splits != 1).sum()) and effect["unclassified_changes"] == 0
