"""When the paper exchange liquidates and at what price (pure), worked by hand with the default
brackets: short 4 contracts of size 0.5 at 2,000 with 200 margin (5×) → base −2, liquidation in
bracket 1 (0.5 %): (−4,000 − 200) / (−2 × 1.005) = 2,089.552238805970149254 (18 places); PnL there
−2 × 89.55… = −179.104477611940298508, fee (the equity left) 20.895522388059701492."""

from decimal import Decimal

import pytest
from pydantic import ValidationError

from tradeloom.order_router.domain.liquidation import crossed, liquidate, position_liquidation_price
from tradeloom.order_router.domain.perps import PerpPosition
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.quant.margin import DEFAULT_BRACKETS

D = Decimal
SHORT = PerpPosition(D(-4), D(2000), D(200))


def test_short_liquidation_price_crossing_and_outcome() -> None:
    price = position_liquidation_price(SHORT, D("0.5"), DEFAULT_BRACKETS)
    assert price == D("2089.552238805970149254")
    assert not crossed(SHORT, price, D(1900), D("2089.55"))
    assert crossed(SHORT, price, D(1900), D(2100))  # the batch's high reaches it
    outcome = liquidate(SHORT, D("0.5"), price)
    assert (outcome.realised_pnl, outcome.fee) == (D("-179.104477611940298508"), D("20.895522388059701492"))
    assert outcome.free_change(SHORT.margin) == 0  # the margin is lost, nothing more


def test_a_one_x_long_and_a_flat_position_never_liquidate() -> None:
    long = PerpPosition(D(1), D(100), D(100))
    assert position_liquidation_price(long, D(1), DEFAULT_BRACKETS) == 0
    assert not crossed(long, D(0), D("0.01"), D(100))
    assert not crossed(PerpPosition(), None, D(1), D(2))


def test_an_overdrawn_position_loses_no_more_than_its_margin_in_fee() -> None:
    """Funding drew the margin down to 1: the price overshoots the equity; the fee floors at 0."""
    thin = PerpPosition(D(10), D(100), D(1))
    outcome = liquidate(thin, D(1), D(99))
    assert (outcome.realised_pnl, outcome.fee, outcome.free_change(D(1))) == (D(-10), D(0), D(-9))


def test_bracket_tables_from_the_settings_are_checked() -> None:
    base = {"database_url": "postgresql+asyncpg://u:p@localhost:1/db", "environment": "test"}
    table = [{"notional_cap": "100", "rate": "0.01"}, {"rate": "0.02", "amount": "1"}]
    settings = OrderRouterSettings(**base, perp_maintenance_brackets={"X/USDT:USDT": table})
    assert settings.maintenance_brackets()["X/USDT:USDT"][1].amount == 1
    with pytest.raises(ValidationError, match="amount must be 1"):
        OrderRouterSettings(**base, perp_maintenance_brackets={"X/USDT:USDT": [table[0], {"rate": "0.02"}]})
