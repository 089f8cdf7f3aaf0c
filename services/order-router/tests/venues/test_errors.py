"""ccxt exceptions map to our codes; an order call that may have reached the venue is outcome_unknown."""

from decimal import Decimal

import ccxt.async_support as ccxt
import pytest

from tradeloom.order_router.venues.ccxt_parse import our_status
from tradeloom.order_router.venues.errors import map_ccxt_error


@pytest.mark.parametrize(
    ("error", "placing", "code", "status"),
    [
        (ccxt.InsufficientFunds("x"), True, "insufficient_funds", 422),
        (ccxt.OrderNotFound("x"), False, "order_not_found", 404),
        (ccxt.DuplicateOrderId("x"), True, "duplicate_client_order_id", 409),
        (ccxt.InvalidOrder("x"), True, "invalid_order", 422),
        (ccxt.BadSymbol("x"), True, "invalid_order", 422),
        (ccxt.AuthenticationError("x"), False, "venue_auth_failed", 422),
        (ccxt.PermissionDenied("x"), True, "venue_auth_failed", 422),
        (ccxt.NotSupported("x"), False, "not_supported", 422),
        (ccxt.RateLimitExceeded("x"), True, "unavailable", 503),
        (ccxt.RequestTimeout("x"), False, "timeout", 504),
        (TimeoutError(), False, "timeout", 504),
        (ccxt.RequestTimeout("x"), True, "outcome_unknown", 504),
        (ccxt.ExchangeNotAvailable("x"), True, "outcome_unknown", 504),
        (ccxt.ExchangeNotAvailable("x"), False, "unavailable", 503),
        (ccxt.ExchangeError("x"), False, "venue_error", 502),
    ],
)
def test_mapping(error: BaseException, placing: bool, code: str, status: int) -> None:
    mapped = map_ccxt_error(error, placing=placing)
    assert (mapped.code, mapped.status) == (code, status)


def test_signed_query_strings_stay_out_of_messages() -> None:
    error = ccxt.RequestTimeout("binance GET http://h/api/v3/account?timestamp=1&signature=abc timed out")
    assert "signature" not in map_ccxt_error(error).message


@pytest.mark.parametrize(
    ("ccxt_status", "filled", "ours"),
    [("open", "0", "new"), ("open", "0.1", "partially_filled"), ("closed", "1", "filled"),
     ("canceled", "0.2", "canceled"), ("expired", "0", "expired"), ("rejected", "0", "rejected"),
     (None, "0", "new")],
)  # fmt: skip
def test_status_mapping(ccxt_status: str | None, filled: str, ours: str) -> None:
    assert our_status(ccxt_status, Decimal(filled)) == ours
