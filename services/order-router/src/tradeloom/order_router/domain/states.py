"""The order state machine: the only transitions an order can make.

pending_new → new → partially_filled → filled | canceled | rejected | expired, with
pending_cancel for venues that acknowledge a cancel later. ``partially_filled → partially_filled``
is a further fill without a status change; every other self-transition is refused.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

PENDING_NEW: Final = "pending_new"
NEW: Final = "new"
PARTIALLY_FILLED: Final = "partially_filled"
PENDING_CANCEL: Final = "pending_cancel"
FILLED: Final = "filled"
CANCELED: Final = "canceled"
REJECTED: Final = "rejected"
EXPIRED: Final = "expired"

STATUSES: Final = frozenset(
    {PENDING_NEW, NEW, PARTIALLY_FILLED, PENDING_CANCEL, FILLED, CANCELED, REJECTED, EXPIRED}
)
TERMINAL: Final = frozenset({FILLED, CANCELED, REJECTED, EXPIRED})
OPEN: Final = frozenset({NEW, PARTIALLY_FILLED, PENDING_CANCEL})

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    PENDING_NEW: frozenset({NEW, REJECTED}),
    NEW: frozenset({PARTIALLY_FILLED, FILLED, PENDING_CANCEL, CANCELED, EXPIRED}),
    PARTIALLY_FILLED: frozenset({PARTIALLY_FILLED, FILLED, PENDING_CANCEL, CANCELED, EXPIRED}),
    PENDING_CANCEL: frozenset({PARTIALLY_FILLED, FILLED, CANCELED}),
    FILLED: frozenset(),
    CANCELED: frozenset(),
    REJECTED: frozenset(),
    EXPIRED: frozenset(),
}


class IllegalTransition(ValueError):
    """A change the state machine does not allow (a bug in the caller, never a user error)."""


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def transition(current: str, target: str) -> str:
    """``target`` when ``current → target`` is allowed; ``IllegalTransition`` otherwise."""
    if not can_transition(current, target):
        raise IllegalTransition(f"an order cannot go from {current!r} to {target!r}")
    return target


def after_fill(current: str, filled: Decimal, quantity: Decimal) -> str:
    """The status after a fill: filled when nothing remains, otherwise partially filled
    (a pending cancel that fills in part stays partially filled until the cancel is applied)."""
    target = FILLED if filled >= quantity else PARTIALLY_FILLED
    return transition(current, target)
