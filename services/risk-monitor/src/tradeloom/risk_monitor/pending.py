"""Orders approved by the check whose ``order_updated`` event has not arrived yet.

Two orders sent at once must not both slip under ``max_open_orders``: each check reserves its order
here before it reads the account, and counts the account's orders reserved before it on top of
the open orders stored (which exclude every reserved id, so none is counted twice). A refused order
is released at once; an approved one when the transaction storing its first event commits (it is
then counted in the check's memory, ``check_state.py``), or after ``ttl_s``.
Per instance: checks of one account spread over several instances are not serialised.
"""

from __future__ import annotations

import time


class PendingOrders:
    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._by_account: dict[str, dict[str, float]] = {}

    def reserve(self, account_id: str, order_id: str) -> tuple[list[str], int]:
        """Reserve ``order_id``; (ids to leave out of the stored count, orders reserved before it)."""
        now = time.monotonic()
        pending = self._by_account.setdefault(account_id, {})
        for stale in [oid for oid, expires in pending.items() if expires < now]:
            del pending[stale]
        before = [oid for oid in pending if oid != order_id]
        pending.setdefault(order_id, now + self.ttl_s)
        return [*before, order_id], len(before)

    def release(self, account_id: str, order_id: str) -> None:
        pending = self._by_account.get(account_id)
        if pending is not None:
            pending.pop(order_id, None)
            if not pending:
                del self._by_account[account_id]
