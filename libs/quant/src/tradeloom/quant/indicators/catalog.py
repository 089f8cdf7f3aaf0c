"""The indicator catalog: each compiled indicator with its inputs, parameter schema and output names.

A UI draws an indicator's form from ``as_dict()`` and charts its named outputs; ``compute`` runs the
kernel on arrays of one series of bars. ``source`` indicators take one series the caller picks
(close by default); the others name the bar columns they read. Parameters use the strategies'
``ParamSpec`` schema (type, range, default, description) and ``validate_params``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tradeloom.quant import indicators as ind
from tradeloom.quant.strategies.schema import InvalidParameters, ParamSpec, ParamValue, validate_params
from tradeloom.quant.types import FloatArray

COLUMNS = ("open", "high", "low", "close", "volume")
SOURCE = "source"  # the one series a caller picks (any of COLUMNS)
MAX_WINDOW = 5000

Kernel = Callable[[Mapping[str, FloatArray], Mapping[str, ParamValue]], tuple[FloatArray, ...]]


@dataclass(frozen=True)
class IndicatorSpec:
    name: str
    description: str
    inputs: tuple[str, ...]  # SOURCE or bar columns, in the kernel's order
    params: tuple[ParamSpec, ...]
    outputs: tuple[str, ...]
    kernel: Kernel
    rules: tuple[Callable[[Mapping[str, ParamValue]], str | None], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "inputs": list(self.inputs),
            "params": [p.as_dict() for p in self.params],
            "outputs": list(self.outputs),
        }


def _window(
    default: int, name: str = "window", minimum: int = 1, what: str = "bars in the window"
) -> ParamSpec:
    return ParamSpec(name, int, default, minimum, MAX_WINDOW, what)


def _i(p: Mapping[str, ParamValue], name: str = "window") -> int:
    return int(p[name])


def _one(series: FloatArray) -> tuple[FloatArray, ...]:
    return (series,)


def _fast_below_slow(p: Mapping[str, ParamValue]) -> str | None:
    return "slow: must be greater than fast" if p["slow"] <= p["fast"] else None


SRC = (SOURCE,)
HLC = ("high", "low", "close")
BANDS = ("lower", "middle", "upper")
VALUE = ("value",)

_SPECS = (
    IndicatorSpec("sma", "Simple moving average", SRC, (_window(20),), VALUE,
          lambda a, p: _one(ind.sma(a[SOURCE], _i(p)))),
    IndicatorSpec("ema", "Exponential moving average (seeded with the first window's SMA)", SRC,
          (_window(20),), VALUE, lambda a, p: _one(ind.ema(a[SOURCE], _i(p)))),
    IndicatorSpec("wma", "Linearly weighted moving average", SRC, (_window(20),), VALUE,
          lambda a, p: _one(ind.wma(a[SOURCE], _i(p)))),
    IndicatorSpec("wilder", "Wilder's smoothing (RMA)", SRC, (_window(14),), VALUE,
          lambda a, p: _one(ind.wilder(a[SOURCE], _i(p)))),
    IndicatorSpec("rsi", "Wilder's relative strength index (0-100)", SRC, (_window(14),), VALUE,
          lambda a, p: _one(ind.rsi(a[SOURCE], _i(p)))),
    IndicatorSpec("macd", "MACD line, signal line and histogram", SRC,
          (_window(12, "fast", what="fast EMA window"), _window(26, "slow", what="slow EMA window"),
           _window(9, "signal", what="signal EMA window")),
          ("macd", "signal", "histogram"),
          lambda a, p: ind.macd(a[SOURCE], _i(p, "fast"), _i(p, "slow"), _i(p, "signal")),
          (_fast_below_slow,)),
    IndicatorSpec("stochastic", "Stochastic oscillator %K and %D", HLC,
          (_window(14, "k_window", what="%K look-back"), _window(3, "d_window", what="%D smoothing"),
           _window(1, "smooth_k", what="%K smoothing (1: none)")),
          ("k", "d"),
          lambda a, p: ind.stochastic(a["high"], a["low"], a["close"], _i(p, "k_window"),
                                      _i(p, "d_window"), _i(p, "smooth_k"))),
    IndicatorSpec("adx", "Average directional index with +DI and -DI", HLC, (_window(14),),
          ("adx", "plus_di", "minus_di"), lambda a, p: ind.adx(a["high"], a["low"], a["close"], _i(p))),
    IndicatorSpec("atr", "Average true range", HLC, (_window(14),), VALUE,
          lambda a, p: _one(ind.atr(a["high"], a["low"], a["close"], _i(p)))),
    IndicatorSpec("true_range", "True range", HLC, (), VALUE,
          lambda a, _p: _one(ind.true_range(a["high"], a["low"], a["close"]))),
    IndicatorSpec("bollinger", "Bollinger bands: SMA ± k population standard deviations", SRC,
          (_window(20), ParamSpec("k", float, 2.0, 0.0, 10.0, "band width in standard deviations")),
          BANDS, lambda a, p: ind.bollinger(a[SOURCE], _i(p), float(p["k"]))),
    IndicatorSpec("keltner", "Keltner channel: EMA ± multiplier × ATR", HLC,
          (_window(20), _window(10, "atr_window", what="ATR window"),
           ParamSpec("multiplier", float, 2.0, 0.0, 10.0, "channel width in ATRs")),
          BANDS, lambda a, p: ind.keltner(a["high"], a["low"], a["close"], _i(p), _i(p, "atr_window"),
                                          float(p["multiplier"]))),
    IndicatorSpec("donchian", "Donchian channel over each window, the current bar included", ("high", "low"),
          (_window(20),), BANDS, lambda a, p: ind.donchian(a["high"], a["low"], _i(p))),
    IndicatorSpec("rolling_zscore", "(x - SMA) / population standard deviation", SRC, (_window(20),), VALUE,
          lambda a, p: _one(ind.rolling_zscore(a[SOURCE], _i(p)))),
    IndicatorSpec("rolling_volatility", "Sample standard deviation of simple returns, annualised", SRC,
          (_window(20, minimum=2),
           ParamSpec("periods_per_year", float, 1.0, 1.0, 1e7, "bars per year (1: not annualised)")),
          VALUE, lambda a, p: _one(ind.rolling_volatility(a[SOURCE], _i(p), float(p["periods_per_year"])))),
    IndicatorSpec("vwap", "Volume-weighted typical price, cumulative (window 0) or rolling",
          ("high", "low", "close", "volume"), (_window(0, minimum=0, what="bars (0: cumulative)"),), VALUE,
          lambda a, p: _one(ind.vwap(a["high"], a["low"], a["close"], a["volume"], _i(p)))),
    IndicatorSpec("obv", "On-balance volume", ("close", "volume"), (), VALUE,
          lambda a, _p: _one(ind.obv(a["close"], a["volume"]))),
)  # fmt: skip

INDICATORS: dict[str, IndicatorSpec] = {spec.name: spec for spec in _SPECS}


def indicator_spec(name: str) -> IndicatorSpec:
    """The indicator called ``name``; ``InvalidParameters`` on field ``indicator`` otherwise."""
    spec = INDICATORS.get(name)
    if spec is None:
        raise InvalidParameters(
            "indicator", f"unknown indicator {name!r}: use one of {', '.join(sorted(INDICATORS))}"
        )
    return spec


def checked_indicator_params(spec: IndicatorSpec, raw: Mapping[str, object]) -> dict[str, ParamValue]:
    """Defaults filled in, types and ranges checked; ``InvalidParameters.field`` names the parameter."""
    known = {p.name for p in spec.params}
    for name in raw:
        if name not in known:
            raise InvalidParameters(name, f"unknown parameter of indicator {spec.name}")
    return validate_params(spec, raw)


def compute_indicator(
    spec: IndicatorSpec,
    columns: Mapping[str, FloatArray],
    params: Mapping[str, ParamValue],
    source: str = "close",
) -> dict[str, FloatArray]:
    """Each output of the indicator over ``columns`` (bar columns of equal length), by output name.

    ``params`` must come from ``checked_indicator_params``; ``source`` is the column a ``source``
    input reads.
    """
    if source not in COLUMNS:
        raise InvalidParameters("source", f"must be one of {', '.join(COLUMNS)}")
    arrays = {
        name: np.ascontiguousarray(columns[source if name == SOURCE else name], dtype=np.float64)
        for name in spec.inputs
    }
    return dict(zip(spec.outputs, spec.kernel(arrays, params), strict=True))
