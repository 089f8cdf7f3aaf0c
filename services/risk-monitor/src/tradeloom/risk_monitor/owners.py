"""Whose account is it? From the orders and fills seen, else order-router, asked as the caller.

Another user's account is ``not_found`` exactly like an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import NotFound, Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient


class Owners:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        positions: PositionsStore,
        timeout_s: float,
    ) -> None:
        self._engine = engine
        self._client = client
        self.positions = positions
        self.timeout_s = timeout_s

    async def require(
        self, caller: CallerContext, user_id: str, account_id: str, *, ask_router: bool = True
    ) -> None:
        """``not_found`` unless the account is the caller's; ``ask_router`` false: an account not
        seen yet passes (for reads that filter by the caller anyway)."""
        async with self._engine().connect() as conn:
            owner = await self.positions.account_owner(conn, account_id)
        if owner is not None:
            if owner != user_id:
                raise NotFound(f"account {account_id} not found")
            return
        if ask_router:
            await self.account(caller, account_id)

    async def account(self, caller: CallerContext, account_id: str) -> dict[str, Any]:
        """order-router's ``AccountInfo`` of the caller's account (as JSON); ``not_found`` otherwise."""
        try:
            return await self._client().call_raw(
                "order-router",
                "accounts_get",
                {"account_id": account_id},
                caller=caller,
                timeout_s=self.timeout_s,
            )
        except RemoteError as error:
            if error.code in ("not_found", "validation_error"):
                raise NotFound(f"account {account_id} not found") from error
            raise Unavailable("order-router could not confirm the account's owner; retry") from error
