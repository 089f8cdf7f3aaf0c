"""A bot's decision on one closed bar: the strategy's signals there → an order or a hold.

Pure (no I/O). The signals are ``tradeloom.quant``'s built-in strategy kernels or a compiled
builder graph, the very ones the backtest runs, over closed bars only; the decision looks at the
signal of the newest bar. Bots trade long only (spot): a short entry means "be flat".
``client_order_id`` is a function of the bot, the symbol and the bar, so deciding the same bar
twice can never make a second order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from typing import Any

import numpy as np

from tradeloom.quant.simulator import Bars as QuantBars
from tradeloom.quant.strategies import OhlcArrays, strategy_signals
from tradeloom.shared.bot_orders import bot_client_order_id
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.strategy_runner.domain.graph import compiled

TIMEFRAME_NS: dict[str, int] = {
    tf: seconds * 1_000_000_000
    for tf, seconds in {
        "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14_400, "1d": 86_400, "1w": 604_800,
    }.items()
}  # fmt: skip
OHLCV = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Bar:
    open_ns: int
    open: float
    high: float
    low: float
    close: float
    volume: float = 0.0


@dataclass(frozen=True)
class Decision:
    signal: str  # entry_long | exit_long | entry_short | exit_short | none
    action: str  # hold | buy | sell
    reason: str
    quantity: Decimal | None = None


def client_order_id(bot_id: str, bar_ns: int, symbol_index: int = 0) -> str:
    """Deterministic per (bot, symbol, bar): ``bot-<bot hex>-<bar ns>`` on the bot's first symbol
    (``tradeloom.shared.bot_orders``, as before several symbols), ``…-m<index>`` on its others
    (at most 59 characters, 62 with an exit's ``-sl``: order-router's limit is 64)."""
    base = bot_client_order_id(bot_id, bar_ns)
    return base if symbol_index == 0 else f"{base}-m{symbol_index}"


def equity_size(free_quote: Decimal, percent: Decimal, price: Decimal, lot: Decimal) -> Decimal:
    """``percent`` of the free quote balance at ``price``, rounded down to whole lots."""
    lots = (free_quote * percent / Decimal(100) / price / lot).to_integral_value(rounding=ROUND_DOWN)
    return lots * lot


def last_signal(
    template: str, params: Mapping[str, object], bars: Sequence[Bar], graph: Mapping[str, Any] | None = None
) -> str:
    """The signal of the newest bar (entry_long wins over the exits on a reversal bar): the
    template's kernel, or for a graph strategy its compiled ``graph`` (what a backtest runs)."""
    o, h, lo, c, v = (np.array([getattr(b, name) for b in bars], dtype=np.float64) for name in OHLCV)
    times = np.array([b.open_ns for b in bars], dtype=np.int64)
    if graph is not None:
        plan = compiled(StrategyGraph.model_validate(graph))
        entry_long, exit_long, entry_short, exit_short, _ = plan.signals(QuantBars(o, h, lo, c, v, times))
    else:
        ohlc = OhlcArrays(o, h, lo, c, times)
        entry_long, exit_long, entry_short, exit_short, _ = strategy_signals(template, ohlc, params)
    i = len(bars) - 1
    for name, series in (
        ("entry_long", entry_long),
        ("exit_long", exit_long),
        ("entry_short", entry_short),
        ("exit_short", exit_short),
    ):
        if bool(series[i]):
            return name
    return "none"


def decide(
    signal: str, *, position: Decimal, open_orders: int, quantity: Decimal, max_position: Decimal
) -> Decision:
    """Target position from the signal against the bot's own position (its filled orders)."""
    if open_orders:
        return Decision(signal, "hold", "an order of the bot is still open")
    if signal == "entry_long":
        size = min(quantity, max_position)
        if position > 0 or size <= 0:
            return Decision(
                signal, "hold", "already long" if position > 0 else "the entry size rounds to nothing"
            )
        return Decision(signal, "buy", f"enter long {size}", size)
    if signal in ("exit_long", "entry_short"):
        if position <= 0:
            return Decision(signal, "hold", "already flat (long only)")
        return Decision(signal, "sell", f"exit long {position}", position)
    return Decision(signal, "hold", "no signal" if signal == "none" else f"{signal}: nothing to do")
