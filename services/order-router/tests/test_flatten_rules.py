"""The pure rules of a flatten: what a close order sells, and its client id."""

import re
from decimal import Decimal

import pytest

from tradeloom.order_router.flatten import close_client_id, close_quantity
from tradeloom.shared.contracts.orders_common import CLIENT_ORDER_ID_PATTERN

D = Decimal


@pytest.mark.parametrize(
    ("net", "free", "lot", "expected"),
    [
        (D("0.5"), D(10), D("0.001"), D("0.5")),  # the fold, when that much is free
        (D("0.5"), D("0.3"), D("0.001"), D("0.3")),  # at most what is free
        (D("0.5004"), D(10), D("0.001"), D("0.500")),  # whole lots
        (D("0.0004"), D(10), D("0.001"), D(0)),  # less than a lot: nothing to sell
        (D("-0.2"), D(10), D("0.001"), D(0)),  # a short fold on spot: not closable by a sell
    ],
)
def test_close_quantity(net: Decimal, free: Decimal, lot: Decimal, expected: Decimal) -> None:
    assert close_quantity(net, free, lot) == expected


def test_close_ids_are_deterministic_per_event_and_symbol() -> None:
    first = close_client_id("0190f0a0-0000-7000-8000-000000000001", "BTC/USDT")
    assert first == close_client_id("0190f0a0-0000-7000-8000-000000000001", "BTC/USDT")
    assert first != close_client_id("0190f0a0-0000-7000-8000-000000000002", "BTC/USDT")
    assert first != close_client_id("0190f0a0-0000-7000-8000-000000000001", "ETH/USDT")
    assert re.fullmatch(CLIENT_ORDER_ID_PATTERN, first) and len(first) <= 64 and first.startswith("flat-")
