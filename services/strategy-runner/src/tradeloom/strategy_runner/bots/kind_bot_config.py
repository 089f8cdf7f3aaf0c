"""``grid_bots_update`` / ``dca_bots_update`` and their ``…_config_changes``: what both kinds share.

A grid's or DCA bot's configuration is its resting orders at order-router (the ladder, the
cycle's safeties and take-profit), so it changes only while the bot is **not running or paused**
(409 otherwise: stop it first). A pending configuration as a strategy bot has would meet, at the
next start, lots or a cycle that filled in between (a held lot sells at its ladder's next level), and
the start would then have to refuse or half-apply it; stop + update + start says what happens.
The new configuration is checked against the market as at create (tick, lot, last price, free
quote: 422 naming each field) and stored under the bot's row lock, with one ``bot_config_changes``
row (``effective`` ``now``). ``name`` and ``risk_limits`` change at once whatever the status, as a
strategy bot's (``bot_limits_update.py``: risk-monitor's set first, then the copy, the old set put
back on a failure).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.contracts.bot_risk import BotRiskLimits
from tradeloom.shared.errors import Conflict, field_invalid, require_user
from tradeloom.shared.paging import fetch_size, page_of
from tradeloom.strategy_runner.bots.api_bot_config import RUNNING, _entry
from tradeloom.strategy_runner.bots.bot_limits_update import limits_replaced
from tradeloom.strategy_runner.bots.grid_market import GridMarket
from tradeloom.strategy_runner.bots.kind_bots_api import KindBotsApi
from tradeloom.strategy_runner.store.bot_config_store import BotConfigStore

# the config's changes (field → {old, new}) after storing it, given the locked row and the market
Apply = Callable[[AsyncConnection, Row[Any], GridMarket], Awaitable[dict[str, Any]]]


def field_changes(old: object, new: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """field → {old, new} of the fields that differ (decimals as strings)."""

    def wire(value: object) -> object:
        return str(value) if isinstance(value, Decimal) else value

    return {
        name: {"old": wire(getattr(old, name)), "new": wire(getattr(new, name))}
        for name in fields
        if getattr(old, name) != getattr(new, name)
    }


class KindBotConfig:
    """Updates and change history of one kind's bots (``api`` the kind's own operations)."""

    def __init__(self, api: KindBotsApi, schema: str, risk_monitor_timeout_s: float) -> None:
        self.api = api
        self.config = BotConfigStore(schema)
        self.risk_monitor_timeout_s = risk_monitor_timeout_s

    async def update(
        self, caller: CallerContext, bot_id: str, *, name: str | None, limits: BotRiskLimits | None,
        changing: list[str], apply: Apply,
    ) -> Row[Any]:  # fmt: skip
        """The bot after the update; ``changing``: the config fields the request sets."""
        user_id = require_user(caller)
        api = self.api
        async with api._engine().connect() as conn:
            found = await api._row(conn, bot_id, user_id)
        market = None
        if changing:
            self._stopped(found, changing)
            market = await api.market.market(caller, found.account_id, found.venue, found.symbol)
        async with AsyncExitStack() as undo, api._engine().begin() as conn:
            row = await api._row(conn, bot_id, user_id, lock=True)
            changes: dict[str, Any] = {}
            if market is not None:
                self._stopped(row, changing)
                changes = await apply(conn, row, market)
            key = uuid.UUID(str(row.id))
            if name is not None and name != row.name:
                changes["name"] = {"old": row.name, "new": name}
                await self.config.rename(conn, key, name)
            new_limits = {} if limits is None else limits.model_dump(mode="json")
            if limits is not None and new_limits != row.risk_limits:
                await undo.enter_async_context(
                    limits_replaced(api._client, self.risk_monitor_timeout_s, caller, row, limits)
                )
                await api.bots.set_risk_limits(conn, key, new_limits)
                changes["risk_limits"] = {"old": row.risk_limits, "new": new_limits}
            if changes:
                await self.config.audit(conn, key, user_id, changes, "now")
            return await api._row(conn, bot_id, user_id)

    @staticmethod
    def _stopped(row: Row[Any], changing: list[str]) -> None:
        if row.status in RUNNING:
            raise Conflict(
                f"cannot change {', '.join(changing)} of a {row.status} bot: stop it first "
                "(its resting orders are its configuration)",
                details={"status": row.status, "fields": [{"field": f} for f in changing]},
            )

    async def changes(self, caller: CallerContext, body: BotConfigChangesRequest) -> BotConfigChangeList:
        user_id = require_user(caller)
        before = None
        if body.cursor is not None:
            if not body.cursor.isdigit():
                raise field_invalid("cursor", "not a cursor this service returned")
            before = int(body.cursor)
        async with self.api._engine().connect() as conn:
            row = await self.api._row(conn, body.bot_id, user_id)
            rows = await self.config.history(conn, uuid.UUID(str(row.id)), fetch_size(body.limit), before)
        items, next_cursor = page_of(rows, body.limit, _entry, lambda entry: str(entry.change_id))
        return BotConfigChangeList(items=items, next_cursor=next_cursor)
