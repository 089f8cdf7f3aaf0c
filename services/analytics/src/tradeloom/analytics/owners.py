"""Whose account, bot or strategy is it? From the fills and bot tags seen, else the owning service,
asked as the caller (order-router for accounts, strategy-runner for bots and strategies).

Another user's object is ``not_found`` exactly like an unknown one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import NotFound, Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient

MAX_BOT_PAGES = 50  # 10,000 bots of one user


class Owners:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        store: EquityStore,
        timeout_s: float,
    ) -> None:
        self._engine = engine
        self._client = client
        self.store = store
        self.timeout_s = timeout_s

    async def _ask(
        self, caller: CallerContext, service: str, op: str, body: dict[str, Any], what: str
    ) -> dict[str, Any]:
        try:
            return await self._client().call_raw(service, op, body, caller=caller, timeout_s=self.timeout_s)
        except RemoteError as error:
            if error.code in ("not_found", "validation_error"):
                raise NotFound(f"{what} not found") from error
            raise Unavailable(f"{service} could not confirm the owner of {what}; retry") from error

    async def account(self, caller: CallerContext, user: str, account_id: str) -> dict[str, Any] | None:
        """Checks the account is the caller's; order-router's account info when it had to ask."""
        async with self._engine().connect() as conn:
            owner = await self.store.account_owner(conn, account_id)
        if owner is not None:
            if owner != user:
                raise NotFound(f"account {account_id} not found")
            return None
        return await self._ask(caller, "order-router", "accounts_get", {"account_id": account_id},
                               f"account {account_id}")  # fmt: skip

    async def account_info(self, caller: CallerContext, account_id: str) -> dict[str, Any]:
        return await self._ask(caller, "order-router", "accounts_get", {"account_id": account_id},
                               f"account {account_id}")  # fmt: skip

    async def bot(self, caller: CallerContext, user: str, bot_id: str) -> None:
        async with self._engine().connect() as conn:
            owner = await self.store.bot_owner(conn, bot_id)
        if owner is not None:
            if owner != user:
                raise NotFound(f"bot {bot_id} not found")
            return
        await self._ask(caller, "strategy-runner", "bots_get", {"bot_id": bot_id}, f"bot {bot_id}")

    async def strategy_bots(self, caller: CallerContext, strategy_id: str) -> list[str]:
        """The caller's bots running ``strategy_id`` (``not_found`` for another user's strategy)."""
        return [item["bot_id"] for item in await self.strategy_bot_items(caller, strategy_id)]

    async def strategy_bot_items(self, caller: CallerContext, strategy_id: str) -> list[dict[str, Any]]:
        """strategy-runner's bot info of each of the caller's bots running ``strategy_id``."""
        await self._ask(caller, "strategy-runner", "strategies_get", {"strategy_id": strategy_id},
                        f"strategy {strategy_id}")  # fmt: skip
        bots: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_BOT_PAGES):
            body: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = await self._ask(caller, "strategy-runner", "bots_list", body, "bots")
            bots += [item for item in page["items"] if item["strategy_id"] == strategy_id]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return bots
