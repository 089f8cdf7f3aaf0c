"""The built-in strategies with their parameter schemas."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tradeloom.quant.strategies import signals as k
from tradeloom.quant.strategies.schema import (
    OhlcArrays,
    ParamSpec,
    ParamValue,
    StrategySpec,
    validate_params,
)

SHORT = ParamSpec("allow_short", bool, False, description="also trade the short side (stop and reverse)")


def _window(name: str, default: int, description: str) -> ParamSpec:
    return ParamSpec(name, int, default, 1, 10_000, description)


def _fast_below_slow(p: Mapping[str, ParamValue]) -> str | None:
    return "slow: must be greater than fast" if p["slow"] <= p["fast"] else None


def _rsi_levels(p: Mapping[str, ParamValue]) -> str | None:
    if not p["oversold"] < p["exit_level"] < p["overbought"]:
        return "exit_level: must lie strictly between oversold and overbought"
    return None


def _i(p: Mapping[str, ParamValue], name: str) -> int:
    return int(p[name])


def _f(p: Mapping[str, ParamValue], name: str) -> float:
    return float(p[name])


def _b(p: Mapping[str, ParamValue], name: str) -> bool:
    return bool(p[name])


BUILTIN_STRATEGIES: dict[str, StrategySpec] = {
    spec.name: spec
    for spec in (
        StrategySpec(
            "sma_cross",
            "Long on the fast SMA crossing above the slow one, out (or short) on the cross below.",
            (_window("fast", 10, "fast SMA window"), _window("slow", 20, "slow SMA window"), SHORT),
            lambda b, p: k.sma_cross(b.close, _i(p, "fast"), _i(p, "slow"), _b(p, "allow_short")),
            (_fast_below_slow,),
        ),
        StrategySpec(
            "ema_cross",
            "Long on the fast EMA crossing above the slow one, out (or short) on the cross below.",
            (_window("fast", 12, "fast EMA window"), _window("slow", 26, "slow EMA window"), SHORT),
            lambda b, p: k.ema_cross(b.close, _i(p, "fast"), _i(p, "slow"), _b(p, "allow_short")),
            (_fast_below_slow,),
        ),
        StrategySpec(
            "macd",
            "Long when the MACD line crosses above its signal line, out (or short) below.",
            (
                _window("fast", 12, "fast EMA"),
                _window("slow", 26, "slow EMA"),
                _window("signal", 9, "signal EMA"),
                SHORT,
            ),
            lambda b, p: k.macd_cross(
                b.close, _i(p, "fast"), _i(p, "slow"), _i(p, "signal"), _b(p, "allow_short")
            ),
            (_fast_below_slow,),
        ),
        StrategySpec(
            "rsi_reversion",
            "Long when RSI crosses below oversold, out when it crosses back above exit_level.",
            (
                _window("window", 14, "RSI window"),
                ParamSpec("oversold", float, 30.0, 0, 100, "entry level"),
                ParamSpec("overbought", float, 70.0, 0, 100, "short entry level"),
                ParamSpec("exit_level", float, 50.0, 0, 100, "exit level"),
                SHORT,
            ),
            lambda b, p: k.rsi_reversion(
                b.close,
                _i(p, "window"),
                _f(p, "oversold"),
                _f(p, "overbought"),
                _f(p, "exit_level"),
                _b(p, "allow_short"),
            ),
            (_rsi_levels,),
        ),
        StrategySpec(
            "bollinger",
            "Bollinger breakout (beyond the band) or reversion (fade the band); exit at the mean.",
            (
                _window("window", 20, "band window"),
                ParamSpec("k", float, 2.0, 0.1, 10, "band width in std"),
                ParamSpec("breakout", bool, False, description="true: breakout, false: mean reversion"),
                SHORT,
            ),
            lambda b, p: k.bollinger_bands(
                b.close, _i(p, "window"), _f(p, "k"), _b(p, "breakout"), _b(p, "allow_short")
            ),
        ),
        StrategySpec(
            "donchian_breakout",
            "Long above the previous window high, out below the previous exit-window low.",
            (_window("window", 20, "entry channel"), _window("exit_window", 10, "exit channel"), SHORT),
            lambda b, p: k.donchian_breakout(
                b.high, b.low, b.close, _i(p, "window"), _i(p, "exit_window"), _b(p, "allow_short")
            ),
        ),
        StrategySpec(
            "opening_range_breakout",
            "Per UTC day: break of the first range_bars' high (low) enters; flat at the day's last bar.",
            (_window("range_bars", 12, "bars forming the opening range"), SHORT),
            lambda b, p: k.opening_range_breakout(
                b.high, b.low, b.close, _days(b), _i(p, "range_bars"), _b(p, "allow_short")
            ),
        ),
    )
}


NS_PER_DAY = 86_400 * 1_000_000_000


def _days(bars: OhlcArrays) -> np.ndarray:
    if bars.time is None:
        raise ValueError("time: this strategy needs bar times (UTC nanoseconds)")
    return np.ascontiguousarray(bars.time, dtype=np.int64) // NS_PER_DAY


def strategy_signals(name: str, bars: OhlcArrays, raw_params: Mapping[str, object]) -> k.SignalArrays:
    """Validated parameters → signal arrays. Unknown strategy or bad parameter: ValueError naming it."""
    spec = BUILTIN_STRATEGIES.get(name)
    if spec is None:
        raise ValueError(f"strategy: unknown built-in strategy {name!r}")
    return spec.signals(bars, validate_params(spec, raw_params))
