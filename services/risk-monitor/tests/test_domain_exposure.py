"""Bots from client order ids, exposure per asset and venue, equity on mark and leverage (pure)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from tradeloom.risk_monitor.domain.exposure import (
    Holding,
    bot_of_client_order_id,
    leverage,
    summarise,
    value_balances,
)

D = Decimal


def test_a_bots_client_order_id_names_the_bot_and_others_name_none() -> None:
    bot = uuid.uuid4()
    # strategy-runner's format: bot-<uuid hex>-<bar ns> (domain.bot_decision.client_order_id)
    assert bot_of_client_order_id(f"bot-{bot.hex}-1733443200000000000") == str(bot)
    assert bot_of_client_order_id("my-order-1") == ""
    assert bot_of_client_order_id("bot-notahexid-1") == ""
    assert bot_of_client_order_id(f"bot-{bot.hex[:-1]}z-1") == ""


def test_bots_net_out_per_symbol_then_assets_and_venues_add_up() -> None:
    summary = summarise(
        [
            Holding("BTC/USDT", "sim", D(2), D(100)),  # bot A long 200
            Holding("BTC/USDT", "sim", D(-1), D(100)),  # bot B short 100: the symbol nets to 100
            Holding("BTC/USD", "kraken", D(-3), D(100)),  # short 300
            Holding("ETH/USDT", "sim", D(4), D(10)),  # long 40
        ]
    )
    assert summary.per_symbol == {"BTC/USDT": D(100), "BTC/USD": D(-300), "ETH/USDT": D(40)}
    assert (summary.gross, summary.net) == (D(440), D(-160))
    assert (summary.per_asset["BTC"].gross, summary.per_asset["BTC"].net) == (D(400), D(-200))
    assert (summary.per_venue["sim"].gross, summary.per_venue["sim"].net) == (D(140), D(140))
    assert (summary.per_venue["kraken"].gross, summary.per_venue["kraken"].net) == (D(300), D(-300))
    assert (summary.long, summary.short) == (D(140), D(300))
    assert summary.long_short_ratio == D("0.46666667")
    assert summarise([Holding("X/USDT", "sim", D(1), D(5))]).long_short_ratio is None


def test_equity_values_balances_at_their_marks_and_leaves_unpriced_ones_out() -> None:
    balances = {"USDT": D(9000), "BTC": D("0.5"), "DOGE": D(1000)}
    valued, equity = value_balances(balances, "USDT", {"BTC/USDT": D(4000)})
    by_asset = {item.asset: item for item in valued}
    assert equity == D(11000)
    assert by_asset["BTC"].value == D(2000)
    assert by_asset["DOGE"].price is None and by_asset["DOGE"].value is None
    assert leverage(D(2000), equity) == D("0.18181818")
    assert leverage(D(1), D(0)) is None
