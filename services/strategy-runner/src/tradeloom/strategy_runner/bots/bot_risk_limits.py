"""A bot's own risk limits, registered with risk-monitor (``svc.risk-monitor.limits_*``).

risk-monitor owns them (its ``limits`` keyed by user, account and bot) and measures the bot's
orders against them; strategy-runner puts them when the bot is created and deletes them with the
bot, always as the bot's owner (the caller's ``tl-user-id``), and keeps a copy in
``bots.risk_limits`` for the bot's view. Nothing is left half-written:

- risk-monitor refusing them (422) fails the create with 422 naming ``risk_limits.<field>``;
- risk-monitor not answering fails it with ``unavailable`` (503); a timeout may still have stored
  them, so they are deleted again (best effort);
- the bot's insert failing after the put deletes them again (``BotsApi.create``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Row

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_risk import BotRiskLimits
from tradeloom.shared.errors import Timeout, Unavailable, ValidationFailed
from tradeloom.shared.rpc import RemoteError, ServiceClient

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

    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self._client = client
        self.timeout_s = timeout_s

    @asynccontextmanager
    async def registered(
        self, caller: CallerContext, bot_id: str, account_id: str, limits: BotRiskLimits | None
    ) -> AsyncIterator[None]:
        """``limits`` put for the bot for the block (nothing when None); removed again if the
        block raises, so a bot that was not created leaves no limits behind."""
        if limits is None:
            yield
            return
        await self.put(caller, bot_id, account_id, limits)
        try:
            yield
        except BaseException:
            await self.remove_quietly(caller, bot_id, account_id)
            raise

    async def put(self, caller: CallerContext, bot_id: str, account_id: str, limits: BotRiskLimits) -> None:
        body = {"account_id": account_id, "bot_id": bot_id, **limits.model_dump(mode="json")}
        try:
            await self._call("limits_put", body, caller)
        except RemoteError as error:
            if error.code == "validation_error":
                raise _renamed(error) from None
            raise
        except Timeout:
            await self.remove_quietly(caller, bot_id, account_id)  # it may have stored them
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
                "deleted, so the bot was kept"
            ) from None

    async def remove_quietly(self, caller: CallerContext, bot_id: str, account_id: str) -> None:
        """Best effort (undoing a put): a failure is logged, the caller's own error stands."""
        try:
            await self.delete(caller, bot_id, account_id)
        except Exception:
            log.warning("could not delete the risk limits of bot %s on %s", bot_id, account_id, exc_info=True)

    async def _call(self, op: str, body: dict[str, Any], caller: CallerContext) -> None:
        await self._client().call_raw(RISK, op, body, caller=caller, timeout_s=self.timeout_s)
