"""``grid_bots_update`` / ``dca_bots_update`` and their ``…_config_changes``: what both kinds share.

A kind describes its configuration once (``KindConfig``: the field names, the current config of
a row, the market's problems with one, how a stopped bot stores one) and ``KindBotConfig.update``
runs the frame: the request's fields over the base (the pending configuration, or the current
one), checked against the market as at create (tick, lot, last price, free quote: 422 naming
each field), then stored under the bot's row lock as a strategy bot's update is
(``api_bot_config.py``):

- a stopped, halted or errored bot takes it at once (a grid: new lots of a new client id
  generation; a DCA bot: its next cycle's settings), ``effective`` ``now``;
- a running or paused bot keeps its configuration, its resting orders and its lots or cycle
  untouched: the new one is ``bots.pending_config`` (with the tick and lot size it was checked
  on), shown as the bot's ``pending_config``, ``effective`` ``next_start``. Its next start
  (``apply_pending``, in the start's transaction before the orders are placed) stores it as a
  stopped bot's update would, audited ``started``; the stop before it cancelled the old orders.

``name`` and ``risk_limits`` (set or removed) change at once whatever the status, as a strategy
bot's (``bot_limits_update.limits_changed``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.errors import field_invalid, require_user
from tradeloom.shared.paging import fetch_size, page_of
from tradeloom.strategy_runner.bots.api_bot_config import RUNNING, _entry
from tradeloom.strategy_runner.bots.bot_limits_update import limits_changed
from tradeloom.strategy_runner.bots.grid_market import GridMarket
from tradeloom.strategy_runner.bots.kind_bots_api import KindBotsApi, refuse_problems
from tradeloom.strategy_runner.domain.grid_bot import Problem
from tradeloom.strategy_runner.store.bot_config_store import BotConfigStore


def _wire(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


def field_changes(old: object, new: object, fields: tuple[str, ...]) -> dict[str, Any]:
    """field → {old, new} of the fields that differ (decimals as strings)."""
    return {
        name: {"old": _wire(getattr(old, name)), "new": _wire(getattr(new, name))}
        for name in fields
        if getattr(old, name) != getattr(new, name)
    }


@dataclass(frozen=True)
class KindConfig:
    """One kind's configuration: ``fields`` of its (dataclass) config, ``current`` a row's,
    ``problems`` the market's with one, ``store`` one made the bot's (row, config, tick, lot)."""

    fields: tuple[str, ...]
    current: Callable[[Row[Any]], Any]
    problems: Callable[[Any, GridMarket], Sequence[Problem]]
    store: Callable[[AsyncConnection, Row[Any], Any, Decimal, Decimal], Awaitable[None]]

    def pending(self, row: Row[Any]) -> Any | None:
        """The configuration the bot's next start runs, when one is pending."""
        stored = row.pending_config
        if stored is None:
            return None
        current = self.current(row)  # each field parsed as the current one's type (Decimal, int)
        return replace(current, **{name: type(getattr(current, name))(stored[name]) for name in self.fields})

    def pending_json(self, config: Any, market: GridMarket) -> dict[str, Any]:
        values = {name: _wire(getattr(config, name)) for name in self.fields}
        return values | {"tick": str(market.tick), "lot_size": str(market.lot_size)}


class KindBotConfig:
    """Updates and change history of one kind's bots (``api`` the kind's own operations)."""

    def __init__(self, api: KindBotsApi, schema: str) -> None:
        self.api = api
        self.config = BotConfigStore(schema)

    async def update(self, caller: CallerContext, body: Any, kind: KindConfig) -> Row[Any]:
        """The bot after the update (``body``: a kind's update request)."""
        user_id = require_user(caller)
        api = self.api
        fields = {name: getattr(body, name) for name in kind.fields if getattr(body, name) is not None}
        market = None
        if fields:
            async with api._engine().connect() as conn:
                found = await api._row(conn, body.bot_id, user_id)
            market = await api.market.market(caller, found.account_id, found.venue, found.symbol)
        async with AsyncExitStack() as undo, api._engine().begin() as conn:
            row = await api._row(conn, body.bot_id, user_id, lock=True)
            key = uuid.UUID(str(row.id))
            changes: dict[str, Any] = {}
            if market is not None:
                changes = await self._configure(conn, row, kind, fields, market)
            if body.name is not None and body.name != row.name:
                changes["name"] = {"old": row.name, "new": body.name}
                await self.config.rename(conn, key, body.name)
            limits = await limits_changed(
                undo, conn, api.risk_limits, api.bots, caller=caller, row=row, new=body.risk_limits,
                remove=body.remove_risk_limits,
            )  # fmt: skip
            if limits is not None:
                changes["risk_limits"] = limits
            if changes:
                await self.config.audit(conn, key, user_id, changes, "now")
            return await api._row(conn, body.bot_id, user_id)

    async def _configure(
        self,
        conn: AsyncConnection,
        row: Row[Any],
        kind: KindConfig,
        fields: dict[str, Any],
        market: GridMarket,
    ) -> dict[str, Any]:
        """The request's fields stored (at once, or pending while it runs); what changed now."""
        key = uuid.UUID(str(row.id))
        current = kind.current(row)
        base = kind.pending(row) or current
        new = replace(base, **fields)
        if row.status in RUNNING:  # it trades on with its own until stopped and started
            pending_changes = field_changes(base, new, kind.fields)
            if pending_changes:
                refuse_problems(kind.problems(new, market))
                pending = None if new == current else kind.pending_json(new, market)
                await self.config.set_pending(conn, key, pending)
                await self.config.audit(conn, key, row.user_id, pending_changes, "next_start")
            return {}
        changes = field_changes(current, new, kind.fields)
        if changes:
            refuse_problems(kind.problems(new, market))
            await kind.store(conn, row, new, market.tick, market.lot_size)
        if row.pending_config is not None:
            await self.config.set_pending(conn, key, None)
        return changes

    async def apply_pending(self, conn: AsyncConnection, row: Row[Any], kind: KindConfig) -> Row[Any]:
        """At a start (under the bot's row lock, before its orders are placed): a pending
        configuration becomes the bot's, audited ``started``; the row as it is then."""
        new = kind.pending(row)
        if new is None:
            return row
        key = uuid.UUID(str(row.id))
        stored = row.pending_config
        await kind.store(conn, row, new, Decimal(stored["tick"]), Decimal(stored["lot_size"]))
        await self.config.set_pending(conn, key, None)
        await self.config.audit(
            conn, key, row.user_id, field_changes(kind.current(row), new, kind.fields), "started"
        )
        return await self.api._row(conn, str(row.id), row.user_id)

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
