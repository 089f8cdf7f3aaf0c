"""Where an accepted order goes: the paper exchange today, a venue adapter later.

The order service only talks to this interface, so an exchange account plugs in by providing
another ``Execution`` (the ccxt adapter in ``venues/``), without touching submit or cancel.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection


class Execution(Protocol):
    async def place(self, conn: AsyncConnection, order: Row[Any]) -> None:
        """Hand over an order just accepted (status ``new``), inside the accepting transaction."""

    async def cancel(self, conn: AsyncConnection, order: Row[Any]) -> bool:
        """Ask to cancel; True when the cancel is final at once (else the order is pending_cancel)."""


class PaperExecution:
    """The paper exchange keeps open orders in the ``orders`` table; the trade consumer
    (``paper.PaperMatcher``) fills them, so placing and cancelling need no further step."""

    async def place(self, conn: AsyncConnection, order: Row[Any]) -> None:
        del conn, order

    async def cancel(self, conn: AsyncConnection, order: Row[Any]) -> bool:
        del conn, order
        return True
