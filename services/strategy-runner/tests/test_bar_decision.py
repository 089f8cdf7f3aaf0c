"""``decide_bar``: the one rule the candle batch and the per-bot path both apply to a bot's row."""

from __future__ import annotations

import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from tradeloom.strategy_runner.bots.bar_decision import decide_bar, wants_entry_size
from tradeloom.strategy_runner.domain.bot_decision import client_order_id

BAR_NS = 1_700_000_040_000_000_000


def row(position: str = "0", open_orders: int = 0, symbol_index: int = 0) -> Any:
    return SimpleNamespace(
        id=uuid.uuid4(), position=position, open_orders=open_orders, max_position="0.5",
        symbol_index=symbol_index,
    )  # fmt: skip


def test_an_entry_needs_a_size_only_when_flat_with_nothing_open() -> None:
    assert wants_entry_size(row(), "entry_long")
    assert not wants_entry_size(row(position="0.1"), "entry_long")
    assert not wants_entry_size(row(open_orders=1), "entry_long")
    assert not wants_entry_size(row(), "exit_long") and not wants_entry_size(row(), "none")


def test_an_entry_buys_the_capped_size_under_the_bars_client_id() -> None:
    bot = row(symbol_index=2)
    planned = decide_bar(bot, "entry_long", BAR_NS, Decimal("0.8"))
    assert (planned.decision.action, planned.decision.quantity) == ("buy", Decimal("0.5"))
    assert planned.client_id == client_order_id(str(bot.id), BAR_NS, 2)
    assert decide_bar(bot, "entry_long", BAR_NS, Decimal("0.8")) == planned  # deterministic


def test_an_exit_sells_the_position_and_everything_else_holds_without_an_id() -> None:
    selling = decide_bar(row(position="0.3"), "exit_long", BAR_NS, Decimal(0))
    assert (selling.decision.action, selling.decision.quantity) == ("sell", Decimal("0.3"))
    assert selling.client_id is not None
    for bot, signal, quantity in [
        (row(), "none", Decimal(0)),
        (row(), "exit_long", Decimal(0)),  # already flat
        (row(), "entry_long", Decimal(0)),  # the size rounds to nothing
        (row(open_orders=1), "exit_long", Decimal(0)),
    ]:
        held = decide_bar(bot, signal, BAR_NS, quantity)
        assert held.decision.action == "hold" and held.client_id is None and held.decision.signal == signal
