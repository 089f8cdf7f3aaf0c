"""Order, account and risk contracts: plain decimal strings, bounds, unknown fields refused."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.contracts.orders_accounts import Balance, PaperAccountCreate
from tradeloom.shared.contracts.risk import RiskHalt, RiskResume
from tradeloom.shared.contracts.wire import plain

ORDER: dict[str, Any] = {"account_id": "a1", "symbol": "BTC/USDT", "side": "buy", "type": "limit",
                         "quantity": "0.5", "price": "100"}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "text"),
    [("1E+4", "10000"), ("10000.000", "10000"), ("0.00000001", "0.00000001"), ("0", "0"), ("1.50", "1.5")],
)
def test_decimals_travel_as_plain_strings(value: str, text: str) -> None:
    assert plain(Decimal(value)) == text
    balance = Balance(asset="USDT", free=Decimal(value), locked=Decimal(0), total=Decimal(value))
    assert json.loads(balance.model_dump_json())["free"] == text


def test_a_submit_accepts_numbers_and_strings() -> None:
    order = OrderSubmit.model_validate({**ORDER, "quantity": 0.5, "price": "1E+2"})
    assert order.quantity == Decimal("0.5") and order.price == Decimal(100)
    assert json.loads(order.model_dump_json())["price"] == "100"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "NaN"),
        ("quantity", "Infinity"),
        ("quantity", "-1"),
        ("quantity", "0"),
        ("price", "1e40"),  # huge
        ("price", "0.0000000000000000001"),  # more decimals than stored
        ("side", "short"),
        ("type", "iceberg"),
        ("surprise", 1),  # unknown field
    ],
)
def test_bad_submissions_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        OrderSubmit.model_validate({**ORDER, field: value})
    assert [error["loc"][0] for error in caught.value.errors()] == [field]


def test_account_defaults_and_rates() -> None:
    account = PaperAccountCreate(name="paper 1")
    assert [(b.asset, b.amount) for b in account.balances] == [("USDT", Decimal(10_000))]
    with pytest.raises(ValidationError):
        PaperAccountCreate.model_validate({"name": "x", "taker_fee_rate": "1.5"})


def test_halt_scope_and_user_go_together() -> None:
    assert RiskHalt(scope="user", user_id="u1").user_id == "u1"
    assert RiskResume(scope="global").user_id is None
    with pytest.raises(ValidationError):
        RiskHalt(scope="user")
    with pytest.raises(ValidationError):
        RiskHalt(scope="global", user_id="u1")
