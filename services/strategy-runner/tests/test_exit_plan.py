"""Which orders rest a live bot's exits and their ``orders_submit`` bodies (``domain/exit_plan``)."""

from __future__ import annotations

from decimal import Decimal

from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.strategy_runner.bots.order_to_send import OrderToSend
from tradeloom.strategy_runner.domain.bot_exits import ExitSettings
from tradeloom.strategy_runner.domain.exit_plan import (
    LoneExit,
    bracket_trailing_percent,
    exit_client_id,
    is_bracket,
    lone_exit,
    needs_levels,
    not_live,
    not_on_venue,
    order_body,
)

D = Decimal
SL, TP = D("95.00"), D("120.00")
ACCOUNT = "0190a5c4-0000-7000-8000-000000000001"


def test_both_levels_are_a_bracket_sent_with_the_entry_and_the_bot_places_nothing() -> None:
    both = ExitSettings(stop_loss=D("0.05"), take_profit=D("0.2"))
    assert is_bracket(both) and needs_levels(both) and not_live(both) is None
    assert lone_exit(both, SL, TP) is None
    body = order_body(
        account_id=ACCOUNT, symbol="BTC/USDT", client_id="bot-x-1", side="buy", quantity=D(1),
        stop_loss=SL, take_profit=TP,
    )  # fmt: skip
    submit = OrderSubmit.model_validate(body)
    assert (submit.type, submit.stop_loss_price, submit.take_profit_price) == ("market", SL, TP)


def test_a_lone_stop_loss_or_take_profit_rests_as_a_stop_or_take_profit_market_sell() -> None:
    stop = ExitSettings(stop_loss=D("0.05"))
    target = ExitSettings(take_profit=D("0.2"))
    assert not is_bracket(stop) and needs_levels(stop) and not_live(stop) is None
    assert lone_exit(stop, SL, None) == LoneExit("sl", "stop_market", 1, stop_price=SL)
    assert lone_exit(target, None, TP) == LoneExit("tp", "take_profit_market", 2, stop_price=TP)
    assert lone_exit(ExitSettings(), None, None) is None
    entry = order_body(
        account_id=ACCOUNT, symbol="BTC/USDT", client_id="bot-x-1", side="buy", quantity=D(1), stop_loss=SL
    )
    assert "stop_loss_price" not in entry  # a lone level never rides with the entry
    exit = lone_exit(stop, SL, None)
    assert exit is not None
    sell = OrderToSend(
        "alice", ACCOUNT, "BTC/USDT", exit_client_id("bot-x-1", exit.kind), "sell", D("0.5"),
        price=exit.stop_price, order_type=exit.order_type,
    ).submit()  # fmt: skip
    assert (sell.client_order_id, sell.type, sell.stop_price, sell.time_in_force) == (
        "bot-x-1-sl", "stop_market", SL, "gtc",
    )  # fmt: skip
    assert sell.side == "sell" and sell.quantity == D("0.5") and sell.price is None


def test_a_trailing_stop_rests_as_a_trailing_percent_sell_and_needs_no_level() -> None:
    trail = ExitSettings(trailing_stop=D("0.04"))
    wide_stop = ExitSettings(stop_loss=D("0.05"), trailing_stop=D("0.04"))  # never binds first
    for settings in (trail, wide_stop):
        assert not_live(settings) is None and not needs_levels(settings) and not is_bracket(settings)
        assert lone_exit(settings, None, None) == LoneExit("ts", "trailing_stop", 3, trailing_percent=D(4))
    exit = lone_exit(trail, None, None)
    assert exit is not None and exit.signal == "trailing_stop"
    sell = OrderToSend(
        "alice", ACCOUNT, "BTC/USDT", exit_client_id("bot-x-1", "ts"), "sell", D(1),
        order_type="trailing_stop", trailing_percent=exit.trailing_percent,
    ).submit()  # fmt: skip
    assert (sell.type, sell.trailing_percent, sell.trailing_amount, sell.stop_price) == (
        "trailing_stop", D(4), None, None,
    )  # fmt: skip


def test_a_trailing_stop_and_a_take_profit_are_a_bracket_with_a_trailing_leg() -> None:
    trail_tp = ExitSettings(take_profit=D("0.2"), trailing_stop=D("0.04"))
    wide_too = ExitSettings(stop_loss=D("0.05"), take_profit=D("0.2"), trailing_stop=D("0.04"))
    for settings in (trail_tp, wide_too):  # a stop-loss at least as wide never binds first: left out
        assert not_live(settings) is None and is_bracket(settings) and needs_levels(settings)
        assert bracket_trailing_percent(settings) == D(4) and lone_exit(settings, None, TP) is None
    assert bracket_trailing_percent(ExitSettings(trailing_stop=D("0.04"))) is None  # a lone one
    assert bracket_trailing_percent(ExitSettings(stop_loss=D("0.05"), take_profit=D("0.2"))) is None
    entry = OrderToSend(
        "alice", ACCOUNT, "BTC/USDT", "bot-x-1", "buy", D(1), take_profit=TP, trailing_percent=D(4)
    ).submit()
    assert (entry.type, entry.stop_loss_price, entry.trailing_stop_percent, entry.take_profit_price) == (
        "market", None, D(4), TP,
    )  # fmt: skip
    assert entry.trailing_percent is None and entry.trailing_stop_amount is None


def test_exits_needing_two_resting_sells_are_refused_naming_the_sinks() -> None:
    refused = {
        "three": ExitSettings(stop_loss=D("0.02"), take_profit=D("0.2"), trailing_stop=D("0.04")),
        "tighter": ExitSettings(stop_loss=D("0.02"), trailing_stop=D("0.04")),
        "wide": ExitSettings(trailing_stop=D("0.6")),
    }
    assert "three exits (with sink.take_profit)" in (not_live(refused["three"]) or "")
    assert "sink.stop_loss tighter" in (not_live(refused["tighter"]) or "")
    assert "at most 0.5" in (not_live(refused["wide"]) or "")


def test_a_grid_limit_and_a_recorded_resend_keep_their_body() -> None:
    limit = OrderToSend(
        "alice", ACCOUNT, "BTC/USDT", "bot-x--5", "buy", D(1), price=D(99), order_type="limit"
    )
    submit = limit.submit()
    assert (submit.type, submit.price, submit.time_in_force) == ("limit", D(99), "gtc")
    long_id = "bot-" + "a" * 60
    assert exit_client_id(long_id, "ts") == long_id[:60] + "-ts"


def test_an_exchange_account_takes_lone_stops_targets_brackets_and_a_binance_lone_trailing_stop() -> None:
    bracket = ExitSettings(stop_loss=D("0.05"), take_profit=D("0.2"))
    for takes in (
        ExitSettings(),
        ExitSettings(stop_loss=D("0.05")),
        ExitSettings(take_profit=D("0.2")),
        bracket,
    ):
        assert not_on_venue(takes, "binance") is None and not_on_venue(takes, "kraken") is None
    # a lone trailing stop: Binance's native one (0.1..20 % in whole bips), no other venue
    for fraction in ("0.1", "0.001", "0.2", "0.0125"):
        assert not_on_venue(ExitSettings(trailing_stop=D(fraction)), "binance") is None
    for fraction, venue in (
        ("0.1", "kraken"),
        ("0.0005", "binance"),
        ("0.25", "binance"),
        ("0.00015", "binance"),
    ):
        refused = not_on_venue(ExitSettings(trailing_stop=D(fraction)), venue)
        assert refused is not None and "sink.trailing_stop" in refused
    # on a perpetual order-router takes lone stops, take-profits and trailing stops at Binance
    # USDⓈ-M only (its algo-order API; a trailing stop by 0.1..10 % in steps of 0.1), no bracket: a
    # bot whose exit it would refuse is refused at create (the exit would be refused only once the
    # entry filled, leaving the position without it)
    lone = ExitSettings(trailing_stop=D("0.1"))
    assert not_on_venue(lone, "binance", ["BTC/USDT", "ETH/USDT:USDT"]) is None
    for exits in (ExitSettings(stop_loss=D("0.05")), ExitSettings(take_profit=D("0.1")), lone):
        assert not_on_venue(exits, "binance", ["BTC/USDT:USDT"]) is None
        assert not_on_venue(exits, "binanceusdm", ["BTC/USDT:USDT"]) is None
        for venue, symbol in (
            ("kraken", "BTC/USD:USD"),
            ("binance", "BTC/USD:BTC"),
            ("binance", "BTC/USDT:USDT-261225"),
        ):
            refused = not_on_venue(exits, venue, [symbol])
            assert refused is not None and symbol in refused and "Binance USDⓈ-M" in refused, (venue, symbol)
    refused = not_on_venue(bracket, "binance", ["BTC/USDT:USDT"])
    assert refused is not None and "brackets on spot only" in refused
    # a spot symbol takes whole bips, a perpetual tenths of a percent: a bot trading both, both
    assert not_on_venue(ExitSettings(trailing_stop=D("0.0125")), "binance", ["BTC/USDT"]) is None
    for symbols in (["BTC/USDT:USDT"], ["BTC/USDT", "BTC/USDT:USDT"]):
        refused = not_on_venue(ExitSettings(trailing_stop=D("0.0125")), "binance", symbols)
        assert refused is not None and "0.1..10 % in steps of 0.1" in refused
        assert not_on_venue(ExitSettings(trailing_stop=D("0.015")), "binance", symbols) is None
        refused = not_on_venue(ExitSettings(trailing_stop=D("0.15")), "binance", symbols)  # 15 % > 10 %
        assert refused is not None and "sink.trailing_stop" in refused
    assert not_on_venue(ExitSettings(), "binance", ["BTC/USDT:USDT"]) is None
    # a bracket's trailing leg (with a take-profit): paper only
    refused = not_on_venue(ExitSettings(trailing_stop=D("0.1"), take_profit=D("0.2")), "binance")
    assert refused is not None and "sink.trailing_stop" in refused
