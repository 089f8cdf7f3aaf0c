"""A live bot's protective exits: stop-loss, take-profit and trailing stop (pure, no I/O).

The rules are backtest-engine's (``tradeloom.quant.simulator.state.check_exits``), so a bot's
exit orders rest at the very levels the backtest checks:

- the stop is the higher of ``entry × (1 − stop_loss)`` and ``peak × (1 − trailing_stop)``, where
  the peak starts at the entry price and rises with each survived bar's high (one stop order,
  moved up as the peak rises; never down);
- the take-profit is ``entry × (1 + take_profit)``;
- within one bar the stop is assumed to trigger before the target (the pessimistic order).

Bots trade long only, so every exit is a sell. Levels are rounded to the instrument's tick away
from the trader's favour (the stop down, the target up), so an order never asks for better than
the backtest's level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.strategy_runner.domain.bot_decision import Bar
from tradeloom.strategy_runner.domain.graph import compiled


@dataclass(frozen=True)
class ExitSettings:
    """Distances as fractions of the entry price; ``None``: that exit is off."""

    stop_loss: Decimal | None = None
    take_profit: Decimal | None = None
    trailing_stop: Decimal | None = None

    @property
    def active(self) -> bool:
        return any(v is not None for v in (self.stop_loss, self.take_profit, self.trailing_stop))

    @property
    def has_stop(self) -> bool:
        return self.stop_loss is not None or self.trailing_stop is not None


@dataclass(frozen=True)
class ExitLevels:
    stop_price: Decimal | None  # the sell stop, None: no stop
    stop_reason: str  # stop_loss | trailing_stop: which rule set the stop
    take_profit_price: Decimal | None


@dataclass(frozen=True)
class ExitHit:
    index: int  # the bar (of those after the entry) the exit filled in
    price: Decimal
    reason: str  # stop_loss | trailing_stop | take_profit


def _fraction(value: float) -> Decimal | None:
    return None if math.isnan(value) else Decimal(str(value))


def exit_settings(graph: Mapping[str, Any] | None) -> ExitSettings:
    """The exits a strategy asks for: a builder graph's stop-loss, take-profit and trailing-stop
    sinks (built-in templates carry none)."""
    if graph is None:
        return ExitSettings()
    settings = compiled(StrategyGraph.model_validate(graph)).settings
    return ExitSettings(
        _fraction(settings.stop_loss), _fraction(settings.take_profit), _fraction(settings.trailing_stop)
    )


def _on_tick(value: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (value / tick).to_integral_value(rounding=rounding) * tick


def exit_levels(settings: ExitSettings, entry: Decimal, peak: Decimal, tick: Decimal) -> ExitLevels:
    """The levels of a long position entered at ``entry`` whose highest high since is ``peak``."""
    stop: Decimal | None = None
    reason = "stop_loss"
    if settings.stop_loss is not None:
        stop = entry * (1 - settings.stop_loss)
    if settings.trailing_stop is not None:
        trail = max(peak, entry) * (1 - settings.trailing_stop)
        if stop is None or trail > stop:
            stop, reason = trail, "trailing_stop"
    target = None if settings.take_profit is None else entry * (1 + settings.take_profit)
    return ExitLevels(
        None if stop is None else _on_tick(stop, tick, ROUND_FLOOR),
        reason,
        None if target is None else _on_tick(target, tick, ROUND_CEILING),
    )


def first_exit(settings: ExitSettings, entry: Decimal, tick: Decimal, bars: Sequence[Bar]) -> ExitHit | None:
    """Where the exits resting at ``exit_levels`` fill over ``bars`` (the entry filled at the first
    one's open): what the exchange does with the bot's orders, moved at each close."""
    peak = entry
    for index, bar in enumerate(bars):
        levels = exit_levels(settings, entry, peak, tick)
        low, high, bar_open = Decimal(str(bar.low)), Decimal(str(bar.high)), Decimal(str(bar.open))
        if index == 0:
            bar_open = entry  # the entry took the open: the exits rest from there
        if levels.stop_price is not None and low <= levels.stop_price:
            return ExitHit(index, min(bar_open, levels.stop_price), levels.stop_reason)
        target = levels.take_profit_price
        if target is not None and high >= target:
            return ExitHit(index, max(bar_open, target), "take_profit")
        peak = max(peak, high)
    return None
