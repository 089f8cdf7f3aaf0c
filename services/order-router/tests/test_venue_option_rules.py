"""What an exchange account may send on an option (pure: ``venue_orders.check_venue_order``)."""

from decimal import Decimal
from typing import Any

import pytest

from tradeloom.order_router.venue_orders import check_venue_order
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.errors import ValidationFailed

CALL = "BTC/USDT:USDT-270129-65000-C"


def order(**changes: Any) -> OrderSubmit:
    fields: dict[str, Any] = {"account_id": "a", "symbol": CALL, "side": "buy", "type": "limit",
                              "quantity": Decimal("0.1"), "price": Decimal(1500)}  # fmt: skip
    return OrderSubmit(**(fields | changes))


def refused_field(body: OrderSubmit, *, option: bool = True) -> str:
    with pytest.raises(ValidationFailed) as caught:
        check_venue_order(body, option=option)
    return str(caught.value.details["fields"][0]["field"])


def test_venue_options_take_limit_orders_only() -> None:
    assert refused_field(order(type="market", price=None)) == "type"
    assert refused_field(order(type="stop_limit", stop_price=Decimal(1400))) == "type"
    assert refused_field(order(post_only=True)) == "post_only"
    check_venue_order(order(), option=True)


def test_reduce_only_goes_to_venue_options_not_to_spot() -> None:
    check_venue_order(order(side="sell", reduce_only=True), option=True)
    assert (
        refused_field(order(symbol="BTC/USDT", side="sell", reduce_only=True), option=False) == "reduce_only"
    )
