"""A bot's positions and PnL by the average-cost method (domain.bot_pnl, pure)."""

from __future__ import annotations

from decimal import Decimal

from tradeloom.strategy_runner.domain.bot_pnl import Execution, books, rounded

D = Decimal


def ex(side: str, qty: str, price: str, fee: str = "0", symbol: str = "BTC/USDT") -> Execution:
    return Execution(symbol, side, D(qty), D(price), D(fee))


def test_average_cost_partial_exits_and_round_trips() -> None:
    book = books(
        [
            ex("buy", "1", "100", "0.1"),
            ex("buy", "1", "110", "0.1"),  # average 105
            ex("sell", "0.5", "120", "0.05"),  # realises 7.5
            ex("sell", "1.5", "100", "0.15"),  # realises -7.5: flat, one trip, 0 - fees → a loss
            ex("buy", "2", "50"),
            ex("sell", "2", "60"),  # second trip wins 20
        ]
    )["BTC/USDT"]
    assert book.quantity == 0 and book.average == 0
    assert book.realized == D("20")
    assert book.fees == D("0.4")
    assert (book.round_trips, book.wins, book.executions) == (2, 1, 6)
    assert book.volume == D("100") + D("110") + D("60") + D("150") + D("100") + D("120")
    assert book.unrealized(None) == 0  # flat: nothing open, no mark needed


def test_open_position_unrealised_and_crossing_through_flat() -> None:
    held = books([ex("buy", "3", "10"), ex("sell", "1", "13"), ex("buy", "1", "9", symbol="ETH/USDT")])
    btc, eth = held["BTC/USDT"], held["ETH/USDT"]
    assert (btc.quantity, btc.average, btc.realized) == (D("2"), D("10"), D("3"))
    assert btc.unrealized(D("12")) == D("4") and btc.unrealized(None) is None
    assert eth.quantity == 1 and btc.round_trips == 0
    flipped = books([ex("buy", "1", "10"), ex("sell", "3", "12")])["BTC/USDT"]
    assert (flipped.quantity, flipped.average, flipped.realized, flipped.round_trips) == (
        D("-2"), D("12"), D("2"), 1,
    )  # fmt: skip
    assert flipped.unrealized(D("11")) == D("2")  # short 2 from 12, now 11


def test_rounded_is_plain_and_never_negative_zero() -> None:
    assert str(rounded(D("1") / D("3"))) == "0.333333333333"
    assert str(rounded(D("-0.0000000000001"))) == "0"
