"""The indicator catalog: every entry computes over bars, its outputs are named, its parameters checked."""

from __future__ import annotations

import numpy as np
import pytest

from tradeloom.quant import indicators as ind
from tradeloom.quant.indicators.catalog import (
    INDICATORS,
    checked_indicator_params,
    compute_indicator,
    indicator_spec,
)
from tradeloom.quant.strategies import InvalidParameters


def bars(n: int = 300) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    close = 100 + np.cumsum(rng.normal(0, 1, n))
    high = close + rng.uniform(0, 1, n)
    low = close - rng.uniform(0, 1, n)
    return {"open": close.copy(), "high": high, "low": low, "close": close, "volume": rng.uniform(1, 5, n)}


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_every_indicator_computes_its_named_outputs_with_defaults(name: str) -> None:
    spec = INDICATORS[name]
    params = checked_indicator_params(spec, {})
    out = compute_indicator(spec, bars(), params)
    assert list(out) == list(spec.outputs)
    assert all(len(values) == 300 for values in out.values())
    assert all(np.isfinite(values[-1]) for values in out.values()), name
    described = spec.as_dict()
    assert described["outputs"] == list(spec.outputs) and described["inputs"] == list(spec.inputs)
    assert all(
        {"name", "type", "default", "minimum", "maximum", "description"} <= set(p)
        for p in described["params"]
    )


def test_outputs_are_the_kernels_own_and_source_picks_the_column() -> None:
    data = bars()
    spec = indicator_spec("sma")
    out = compute_indicator(spec, data, checked_indicator_params(spec, {"window": 7}), source="high")
    np.testing.assert_array_equal(out["value"], ind.sma(data["high"], 7))
    macd = indicator_spec("macd")
    lines = compute_indicator(macd, data, checked_indicator_params(macd, {"fast": 5, "slow": 9}))
    expected = ind.macd(data["close"], 5, 9, 9)
    for name, values in zip(("macd", "signal", "histogram"), expected, strict=True):
        np.testing.assert_array_equal(lines[name], values)


@pytest.mark.parametrize(
    ("name", "params", "field"),
    [
        ("sma", {"window": 0}, "window"),
        ("sma", {"window": 2.5}, "window"),
        ("sma", {"length": 3}, "length"),
        ("macd", {"fast": 30, "slow": 10}, "slow"),
        ("bollinger", {"k": -1}, "k"),
        ("rolling_volatility", {"window": 1}, "window"),
    ],
)
def test_bad_parameters_name_the_parameter(name: str, params: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidParameters) as caught:
        checked_indicator_params(INDICATORS[name], params)
    assert caught.value.field == field


def test_unknown_indicator_and_source_are_named() -> None:
    with pytest.raises(InvalidParameters) as caught:
        indicator_spec("nope")
    assert caught.value.field == "indicator" and "sma" in str(caught.value)
    spec = indicator_spec("ema")
    with pytest.raises(InvalidParameters) as bad_source:
        compute_indicator(spec, bars(), checked_indicator_params(spec, {}), source="median")
    assert bad_source.value.field == "source"
