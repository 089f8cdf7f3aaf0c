"""Which brackets an exchange account may send (pure: ``venue_orders.check_venue_order`` and
``check_venue_bracket``), and which venues ccxt lets order-router pair exits at."""

from decimal import Decimal
from typing import Any

import pytest

from tradeloom.order_router.credentials.sealing import ApiCredentials
from tradeloom.order_router.venue_orders import check_venue_bracket, check_venue_order
from tradeloom.order_router.venues import CcxtVenue
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.errors import ValidationFailed

D = Decimal


def bracket(**changes: Any) -> OrderSubmit:
    fields: dict[str, Any] = {"account_id": "a", "symbol": "BTC/USDT", "side": "buy", "type": "limit",
                              "quantity": D("0.1"), "price": D(100), "stop_loss_price": D(95),
                              "take_profit_price": D(110)}  # fmt: skip
    return OrderSubmit(**(fields | changes))


def refused(check: Any) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check()
    return str(caught.value.details["fields"][0]["field"])


def test_a_spot_bracket_goes_to_a_venue_a_trailing_leg_or_a_perp_or_option_one_does_not() -> None:
    check_venue_order(bracket())
    trailing = bracket(stop_loss_price=None, trailing_stop_percent=D(5))
    assert refused(lambda: check_venue_order(trailing)) == "trailing_stop_percent"
    assert refused(lambda: check_venue_order(bracket(), perpetual=True)) == "stop_loss_price"
    assert refused(lambda: check_venue_order(bracket(), option=True)) in ("stop_loss_price", "type")


def test_a_venue_that_cannot_rest_the_exits_refuses_the_bracket_naming_the_field() -> None:
    check_venue_bracket(bracket(), "binance", True)
    check_venue_bracket(bracket(stop_loss_price=None, take_profit_price=None), "kraken", False)
    assert refused(lambda: check_venue_bracket(bracket(), "kraken", False)) == "stop_loss_price"
    only_target = bracket(stop_loss_price=None)
    assert refused(lambda: check_venue_bracket(only_target, "kraken", False)) == "take_profit_price"


@pytest.mark.parametrize(("venue", "supported"), [("binance", True), ("okx", True), ("bitfinex", False)])
def test_ccxt_says_which_venues_take_stop_loss_and_take_profit_orders(venue: str, supported: bool) -> None:
    adapter = CcxtVenue(venue, ApiCredentials(api_key="k", secret="s"))
    assert adapter.supports_bracket is supported
