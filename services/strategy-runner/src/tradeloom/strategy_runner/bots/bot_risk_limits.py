"""A bot's own risk limits, registered with risk-monitor (``svc.risk-monitor.limits_*``).

risk-monitor owns them (its ``limits`` keyed by user, account and bot) and measures the bot's
orders against them; strategy-runner puts them when the bot is created and deletes them with the
bot, always as the bot's owner (the caller's ``tl-user-id``), and keeps a copy in
``bots.risk_limits`` for the bot's view. Exactly once in effect, whatever is killed when:

- a ``bot_limit_removals`` row for the new bot id is committed before the put and deleted in the
  bot's insert transaction, which holds its row lock from before the put (the sweep skips a
  held row): limits put for a bot that was never committed always leave a row, and the sweep
  (``bots/limit_removals.py``) removes them; a committed bot never has one, so a bot exists (and
  can start) only with its limits in force;
- risk-monitor refusing them (422) fails the create with 422 naming ``risk_limits.<field>``;
- risk-monitor not answering fails it with ``unavailable`` (503) or ``timeout`` (504); the put,
  or the bot's insert, failing deletes the limits again at once, or (risk-monitor still silent)
  leaves the row to the sweep;
- a delete removes the bot's row and writes the removal row in one transaction, then removes the
  limits (or leaves them to the sweep): no bot is ever left without its limits;
- an update removing them (``remove_risk_limits``) clears the copy and writes the removal row
  (``update``) in one transaction, then removes them (or leaves them to the sweep, which removes
  the limits of a bot with no copy): a crash between the two steps leaves no orphan limits
  (``bot_limits_update.py``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_risk import BotRiskLimits
from tradeloom.shared.errors import Timeout, Unavailable, ValidationFailed, require_user
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.store.limit_removals_store import LimitRemovalsStore

log = logging.getLogger(__name__)
RISK = "risk-monitor"
PREFIX = "risk_limits"


def _renamed(error: RemoteError) -> ValidationFailed:
    """risk-monitor's 422 with each field under ``risk_limits.`` (the bot's request names them so)."""
    fields = [
        {**item, "field": f"{PREFIX}.{item.get('field', '')}".rstrip(".")}
        for item in (error.details or {}).get("fields", [])
    ] or [{"field": PREFIX, "message": error.message}]
    message = "; ".join(f"{item['field']}: {item.get('message', '')}" for item in fields)
    return ValidationFailed(f"risk-monitor refused the bot's limits: {message}", details={"fields": fields})


def risk_limits_of(row: Row[Any]) -> BotRiskLimits | None:
    """The copy of a bot's registered limits (``bots.risk_limits``), as its view shows them."""
    return None if row.risk_limits is None else BotRiskLimits.model_validate(row.risk_limits)


class BotRiskLimitsClient:
    """Puts and deletes one bot's limits at risk-monitor, as the bot's owner."""

    def __init__(
        self, client: Callable[[], ServiceClient], timeout_s: float, engine: Callable[[], AsyncEngine],
        schema: str,
    ) -> None:  # fmt: skip
        self._client = client
        self.timeout_s = timeout_s
        self._engine = engine
        self.removals = LimitRemovalsStore(schema)

    @asynccontextmanager
    async def registered(
        self, caller: CallerContext, bot_id: str, account_id: str, limits: BotRiskLimits | None
    ) -> AsyncIterator[AsyncConnection]:
        """The bot's insert transaction, with ``limits`` put for the bot first (nothing when
        None); a block or commit that fails removes them again (or leaves them to the sweep)."""
        if limits is None:
            async with self._engine().begin() as conn:
                yield conn
            return
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            await self.removals.add(conn, bot_id, user_id, account_id, "create")
        refused = False
        try:
            async with self._engine().begin() as conn:
                if not await self.removals.hold(conn, bot_id):  # the sweep took it: nothing put yet
                    raise Unavailable("the bot's risk limits could not be registered: try again")
                try:
                    await self.put(caller, bot_id, account_id, limits)
                except ValidationFailed:
                    refused = True
                    raise
                yield conn
                await self.removals.drop(conn, bot_id)  # committed with the bot: its limits now
        except BaseException:
            if refused:  # risk-monitor stored nothing
                await self._dropped(bot_id)
            else:
                await self.remove_quietly(caller, bot_id, account_id)
            raise

    async def deleted(self, conn: AsyncConnection, bot_id: str, user_id: str, account_id: str) -> None:
        """In the transaction deleting the bot: its limits are to go (``remove_quietly`` after the
        commit, or the sweep)."""
        await self.removals.add(conn, bot_id, user_id, account_id, "delete")

    async def removed_by_update(self, conn: AsyncConnection, bot: Any) -> None:
        """In the update's transaction clearing the bot's copy: its limits are to go
        (``remove_held`` after the commit, or the sweep, which keeps a bot's limits only while
        the bot has a copy)."""
        await self.removals.add(conn, str(bot.id), bot.user_id, bot.account_id, "update")

    async def remove_held(self, caller: CallerContext, bot_id: str, account_id: str) -> None:
        """After that update's commit: the limits deleted at risk-monitor while the removal row
        is held (an update setting limits again waits for it, so its put follows this delete),
        then the row dropped; nothing when the row is gone (the sweep did it, or limits were set
        again); a failure is logged and leaves the row to the sweep."""
        try:
            async with self._engine().begin() as conn:
                if not await self.removals.hold(conn, bot_id):
                    return
                await self.delete(caller, bot_id, account_id)
                await self.removals.drop(conn, bot_id)
        except Exception:
            log.warning("could not delete the risk limits of bot %s on %s", bot_id, account_id, exc_info=True)

    async def put(self, caller: CallerContext, bot_id: str, account_id: str, limits: BotRiskLimits) -> None:
        body = {"account_id": account_id, "bot_id": bot_id, **limits.model_dump(mode="json")}
        try:
            await self._call("limits_put", body, caller)
        except RemoteError as error:
            if error.code == "validation_error":
                raise _renamed(error) from None
            raise
        except Timeout:  # it may have stored them: ``registered`` removes them again
            raise Timeout(
                f"risk-monitor did not answer within {self.timeout_s}s: the bot's risk limits could not be "
                "registered, so the bot was not created"
            ) from None
        except Unavailable as error:
            raise Unavailable(
                f"risk-monitor is not answering ({error.message}): the bot's risk limits could not be "
                "registered, so the bot was not created"
            ) from None

    async def delete(self, caller: CallerContext, bot_id: str, account_id: str) -> None:
        """The bot's limits gone (none set is fine); ``Unavailable`` when risk-monitor does not answer."""
        try:
            await self._call("limits_delete", {"account_id": account_id, "bot_id": bot_id}, caller)
        except RemoteError as error:
            if error.code != "not_found":  # no limits set (or the account gone): nothing to remove
                raise
        except Unavailable as error:
            raise type(error)(
                f"risk-monitor is not answering ({error.message}): the bot's risk limits could not be "
                "deleted yet"
            ) from None

    async def remove_quietly(self, caller: CallerContext, bot_id: str, account_id: str) -> None:
        """Best effort: the limits removed and the bot's removal row with them; a failure is
        logged (the sweep tries again), the caller's own error stands."""
        try:
            await self.delete(caller, bot_id, account_id)
        except Exception:
            log.warning("could not delete the risk limits of bot %s on %s", bot_id, account_id, exc_info=True)
            return
        await self._dropped(bot_id)

    async def _dropped(self, bot_id: str) -> None:
        try:
            async with self._engine().begin() as conn:
                await self.removals.drop(conn, bot_id)
        except Exception:  # the database away: the sweep's removal finds nothing and drops it
            log.warning("could not drop the limit removal of bot %s", bot_id, exc_info=True)

    async def _call(self, op: str, body: dict[str, Any], caller: CallerContext) -> None:
        await self._client().call_raw(RISK, op, body, caller=caller, timeout_s=self.timeout_s)
