"""Venue errors with stable codes, and the mapping from ccxt's exception hierarchy to them.

They are ``ServiceError`` subclasses, so a handler can raise them straight into a reply envelope.
"""

from __future__ import annotations

import re
from typing import Any

import ccxt.async_support as ccxt

from tradeloom.shared.errors import ServiceError

# venues whose ccxt class reports a reused client order id as a plain InvalidOrder (Binance: -2010)
# or BadRequest (Binance USDⓈ-M algo orders: -20132)
DUPLICATE_MESSAGES = ("Duplicate order sent", "client algo id is duplicated")
_QUERY = re.compile(r"\?\S*")  # signed query strings (timestamp, signature) stay out of messages


class VenueError(ServiceError):
    """The venue refused or failed a call. ``message`` never contains credentials."""

    code = "venue_error"
    status = 502


class InsufficientFunds(VenueError):
    code = "insufficient_funds"
    status = 422


class InvalidOrder(VenueError):
    """The venue rejected the order itself (filters, unknown symbol, unsupported combination)."""

    code = "invalid_order"
    status = 422


class DuplicateClientOrderId(VenueError):
    """The venue already holds an order with this client id: look it up, never send again."""

    code = "duplicate_client_order_id"
    status = 409


class OrderNotFound(VenueError):
    code = "order_not_found"
    status = 404


class VenueAuthFailed(VenueError):
    """Key unknown, signature refused, or the key lacks the permission for this call."""

    code = "venue_auth_failed"
    status = 422


class NotSupported(VenueError):
    code = "not_supported"
    status = 422


class VenueUnavailable(VenueError):
    """Not reached, rate limited, in maintenance or clock skew: nothing happened, retry later."""

    code = "unavailable"
    status = 503
    retryable = True


class VenueTimeout(VenueUnavailable):
    """A read timed out; reading again is safe."""

    code = "timeout"
    status = 504


class OutcomeUnknown(VenueError):
    """An order was (maybe) sent but no answer came: it may exist at the venue.

    The caller must not send it again; reconciliation looks it up by its client order id."""

    code = "outcome_unknown"
    status = 504
    retryable = False


def map_ccxt_error(
    error: BaseException, *, placing: bool = False, details: dict[str, Any] | None = None
) -> VenueError:
    """Our error for a ccxt exception. ``placing``: the call sends an order, so any failure after
    the request may have left the socket (timeout, 5xx, broken connection) is ``OutcomeUnknown``."""
    message = _QUERY.sub("?…", str(error) or type(error).__name__)[:500]
    info = {"venue_error": type(error).__name__, **(details or {})}
    # order matters: subclasses before their bases (OrderNotFound < InvalidOrder, …)
    known: tuple[tuple[type[BaseException], type[VenueError]], ...] = (
        (ccxt.InsufficientFunds, InsufficientFunds),
        (ccxt.OrderNotFound, OrderNotFound),
        (ccxt.DuplicateOrderId, DuplicateClientOrderId),
        (ccxt.InvalidOrder, InvalidOrder),
        (ccxt.AuthenticationError, VenueAuthFailed),
        (ccxt.NotSupported, NotSupported),
        (ccxt.BadRequest, InvalidOrder),
        (ccxt.ArgumentsRequired, InvalidOrder),
        (ccxt.OperationRejected, InvalidOrder),
        (ccxt.RateLimitExceeded, VenueUnavailable),
        (ccxt.DDoSProtection, VenueUnavailable),
        (ccxt.InvalidNonce, VenueUnavailable),
    )
    duplicate = isinstance(error, ccxt.InvalidOrder | ccxt.BadRequest)
    if placing and duplicate and any(m in message for m in DUPLICATE_MESSAGES):
        return DuplicateClientOrderId(message, details=info)
    for ccxt_type, ours in known:
        if isinstance(error, ccxt_type):
            return ours(message, details=info)
    if placing and isinstance(error, ccxt.OperationFailed | TimeoutError):
        return OutcomeUnknown(f"no definite answer to the order: {message}", details=info)
    if isinstance(error, ccxt.RequestTimeout | TimeoutError):
        return VenueTimeout(message, details=info)
    if isinstance(error, ccxt.OperationFailed):
        return VenueUnavailable(message, details=info)
    return VenueError(message, details=info)
