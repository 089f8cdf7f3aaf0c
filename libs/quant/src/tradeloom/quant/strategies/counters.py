"""Named diagnostic counters each built-in strategy reports: how often its own events happened.

An event is one of its signal arrays (entry long, exit long, entry short, exit short) under the
strategy's own name for it — e.g. the opening-range breakout's breaks up and down, the RSI
reversion's oversold and overbought entries. They count signals, not fills: what the simulator took
of them is its own counters (``entries``, ``daily_limit_hits``; ``SimulationResult.counters``).
"""

from __future__ import annotations

import numpy as np

from tradeloom.quant.strategies.signals import SignalArrays

ENTRY_LONG, EXIT_LONG, ENTRY_SHORT, EXIT_SHORT = range(4)

STRATEGY_EVENTS: dict[str, tuple[tuple[str, int], ...]] = {
    "sma_cross": (("crosses_above", ENTRY_LONG), ("crosses_below", EXIT_LONG)),
    "ema_cross": (("crosses_above", ENTRY_LONG), ("crosses_below", EXIT_LONG)),
    "macd": (("crosses_above_signal", ENTRY_LONG), ("crosses_below_signal", EXIT_LONG)),
    "rsi_reversion": (
        ("oversold_entries", ENTRY_LONG), ("overbought_entries", ENTRY_SHORT),
        ("exit_level_crosses", EXIT_LONG),
    ),
    "bollinger": (("long_band_signals", ENTRY_LONG), ("short_band_signals", ENTRY_SHORT),
                  ("mean_exits", EXIT_LONG)),
    "donchian_breakout": (("channel_breaks_up", ENTRY_LONG), ("channel_breaks_down", ENTRY_SHORT),
                          ("exit_channel_breaks", EXIT_LONG)),
    "opening_range_breakout": (
        ("opening_range_breaks_up", ENTRY_LONG), ("opening_range_breaks_down", ENTRY_SHORT),
        ("day_end_exits", EXIT_LONG),
    ),
}  # fmt: skip


def strategy_counters(name: str, signals: SignalArrays) -> dict[str, int]:
    """The strategy's named event counts on these signals (empty for a strategy without names)."""
    return {label: int(np.count_nonzero(signals[index])) for label, index in STRATEGY_EVENTS.get(name, ())}
