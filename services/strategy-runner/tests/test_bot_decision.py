"""The bot's pure decision rules: signals of the built-in kernels, target vs position, client ids."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pydantic import ValidationError

from tradeloom.shared.bot_orders import bot_of_client_order_id
from tradeloom.shared.contracts.bots import BotSizing
from tradeloom.strategy_runner.domain.bot_decision import (
    Bar,
    client_order_id,
    decide,
    equity_size,
    last_signal,
)

PARAMS = {"fast": 3, "slow": 5, "allow_short": False}


def bars_of(closes: list[float]) -> list[Bar]:
    return [Bar(i * 60_000_000_000, c, c, c, c) for i, c in enumerate(closes)]


def test_sma_cross_signal_is_on_the_crossing_bar_only() -> None:
    closes = [120 - 2 * i for i in range(10)] + [100 + 3 * i for i in range(1, 11)]
    signals = [last_signal("sma_cross", PARAMS, bars_of(closes[: n + 1])) for n in range(len(closes))]
    assert signals.count("entry_long") == 1
    crossing = signals.index("entry_long")
    assert crossing > 10
    assert set(signals[:crossing]) <= {"none", "exit_long"}


def test_entry_buys_the_size_capped_by_max_position() -> None:
    got = decide(
        "entry_long", position=Decimal(0), open_orders=0, quantity=Decimal(2), max_position=Decimal(1)
    )
    assert (got.action, got.quantity) == ("buy", Decimal(1))


def test_exit_sells_the_whole_position_and_short_entries_mean_flat() -> None:
    for signal in ("exit_long", "entry_short"):
        got = decide(
            signal, position=Decimal("0.5"), open_orders=0, quantity=Decimal(1), max_position=Decimal(1)
        )
        assert (got.action, got.quantity) == ("sell", Decimal("0.5"))
    flat = decide(
        "entry_short", position=Decimal(0), open_orders=0, quantity=Decimal(1), max_position=Decimal(1)
    )
    assert flat.action == "hold"


def test_holds_while_long_or_an_order_is_open() -> None:
    long = decide(
        "entry_long", position=Decimal(1), open_orders=0, quantity=Decimal(1), max_position=Decimal(1)
    )
    pending = decide(
        "entry_long", position=Decimal(0), open_orders=1, quantity=Decimal(1), max_position=Decimal(1)
    )
    assert long.action == pending.action == "hold"


def test_equity_size_is_a_share_of_the_free_quote_in_whole_lots() -> None:
    assert equity_size(Decimal(10_000), Decimal(10), Decimal(112), Decimal("0.00001")) == Decimal("8.92857")
    zero = equity_size(Decimal(1), Decimal(1), Decimal(65_000), Decimal("0.001"))
    assert zero == 0
    got = decide("entry_long", position=Decimal(0), open_orders=0, quantity=zero, max_position=Decimal(1))
    assert got.action == "hold"


def test_sizing_takes_exactly_its_amount() -> None:
    assert BotSizing(kind="equity_pct", percent=Decimal(10)).percent == Decimal(10)
    for bad in (
        {"kind": "fixed"},
        {"kind": "equity_pct", "quantity": "1"},
        {"kind": "equity_pct", "percent": "101"},
    ):
        with pytest.raises(ValidationError):
            BotSizing.model_validate(bad)


def test_client_order_id_is_deterministic_and_names_its_bot() -> None:
    bot = str(uuid.uuid4())
    first = client_order_id(bot, 1_704_067_200_000_000_000)
    assert first == client_order_id(bot, 1_704_067_200_000_000_000)
    assert first != client_order_id(bot, 1_704_067_260_000_000_000)
    assert len(first) <= 64
    assert bot_of_client_order_id(first) == bot
    assert bot_of_client_order_id("manual-1") is None
    assert bot_of_client_order_id("bot-nothex-1") is None


def test_a_bots_other_symbols_have_their_own_client_order_ids() -> None:
    bot, bar = str(uuid.uuid4()), 1_704_067_200_000_000_000
    first = client_order_id(bot, bar)
    assert client_order_id(bot, bar, 0) == first  # the first symbol's, as before several symbols
    others = [client_order_id(bot, bar, index) for index in range(1, 20)]
    assert others[0] == f"{first}-m1" and len({first, *others}) == 20
    assert all(bot_of_client_order_id(cid) == bot and len(f"{cid}-sl") <= 64 for cid in others)
