"""One bot's decision on one bar from its row: the rule the candle batch and the per-bot path share.

The two paths differ only in where an entry's size comes from (the batch takes a fixed size from
the row; the per-bot path may ask for the account's balance) and in what they write; whether the
bot buys, sells or holds, how much, and the order's client id are decided here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.strategy_runner.domain.bot_decision import Decision, client_order_id, decide


@dataclass(frozen=True)
class BarDecision:
    """The decision, and the order's client id when it sends one (None: a hold)."""

    decision: Decision
    client_id: str | None


def wants_entry_size(row: Row[Any], signal: str) -> bool:
    """The signal opens a position the bot does not hold and nothing of it is open: the entry
    needs a size (the only input that may cost a call to another service)."""
    return signal == "entry_long" and Decimal(row.position) <= 0 and not row.open_orders


def decide_bar(row: Row[Any], signal: str, bar_ns: int, quantity: Decimal) -> BarDecision:
    """``decide`` on the bot's own position; an order gets its deterministic client id (bot,
    bar, symbol), so a restart or a redelivered candle never sends it twice."""
    decision = decide(
        signal, position=Decimal(row.position), open_orders=row.open_orders, quantity=quantity,
        max_position=Decimal(row.max_position),
    )  # fmt: skip
    if decision.action == "hold" or decision.quantity is None:
        return BarDecision(Decision(signal, "hold", decision.reason), None)
    return BarDecision(decision, client_order_id(str(row.id), bar_ns, row.symbol_index))
