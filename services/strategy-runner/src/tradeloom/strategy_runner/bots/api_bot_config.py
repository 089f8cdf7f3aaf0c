"""``bots_update``: a strategy bot's configuration changed, stored at once, run from its next start.

Under the bot's row lock: the new configuration is the pending one (or the current one) with the
request's fields; a new ``strategy_version`` is read like ``bots_create`` reads the pinned one (the
caller's strategy; its template, params, graph and code copied), and the result passes create's
checks (``bot_settings.check_live``); the request model forbids other fields (symbol, account:
another account is a new bot). ``symbols`` (the whole list) are checked against market-data's
listing as at create. A stopped, halted or errored bot takes it at once (its next start runs
it); a running or paused one keeps its configuration and gets it as ``pending_config``, applied by
its next start. The name applies at once (it changes no trading), and so do ``risk_limits``
whatever the status: they only bound what the bot may send, risk-monitor checks each order
against the set it holds, and a tighter limit waiting for a restart would leave a running bot
over the owner's chosen bound; ``remove_risk_limits`` removes them at once the same way
(``bot_limits_update.py`` keeps risk-monitor's set and the copy in step, shared with grid and
DCA bots). Every change is written to ``bot_config_changes`` in the same transaction
(``next_start`` for a pending one, ``now`` otherwise); ``bots_config_changes`` lists them, newest
first.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_config import (
    REQUESTS,
    BotConfigChangeEntry,
    BotConfigChangeList,
    BotConfigChangesRequest,
    BotUpdate,
)
from tradeloom.shared.contracts.bots import BotInfo, BotSizing
from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.errors import field_invalid, require_user
from tradeloom.shared.paging import fetch_size, page_of
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.strategy_runner.bots.api_bots import bot_info, no_bot
from tradeloom.strategy_runner.bots.bot_limits_update import limits_changed
from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient
from tradeloom.strategy_runner.bots.bot_settings import (
    changes_between,
    check_live,
    config_of,
    pending_of,
    pinned_of,
)
from tradeloom.strategy_runner.bots.bot_symbols import check_listed
from tradeloom.strategy_runner.bots.kind_bots_api import register_kind
from tradeloom.strategy_runner.domain.bot_exits import exit_settings
from tradeloom.strategy_runner.domain.exit_plan import not_on_venue
from tradeloom.strategy_runner.store.bot_config_store import BotConfigStore
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.strategies_store import StrategiesStore

RUNNING = frozenset({"running", "paused"})


class BotConfigApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        schema: str,
        client: Callable[[], ServiceClient],
        *,
        risk_limits: BotRiskLimitsClient,
        market_data_timeout_s: float = 2.0,
    ) -> None:
        self._engine = engine
        self._client = client
        self.market_data_timeout_s = market_data_timeout_s
        self.risk_limits = risk_limits
        self.bots = BotsStore(schema)
        self.config = BotConfigStore(schema)
        self.strategies = StrategiesStore(schema)

    async def _on_venue_account(self, caller: CallerContext, body: BotUpdate, user_id: str) -> bool:
        """A new version or new symbols whose exits an exchange account cannot rest (a trailing
        stop; on a perpetual), for a bot on an exchange account: asked of order-router only then,
        before the transaction."""
        if body.strategy_version is None and body.symbols is None:
            return False
        async with self._engine().connect() as conn:
            row = await self.bots.get(conn, body.bot_id, user_id)
            if row is None or row.kind != "strategy":
                return False
            base = pending_of(row) or config_of(row)  # what the update starts from
            graph = base["graph"]
            if body.strategy_version is not None:
                version = await self.strategies.version(
                    conn, str(row.strategy_id), user_id, body.strategy_version
                )
                graph = None if version is None else version.graph
        symbols = body.symbols if body.symbols is not None else base.get("symbols") or row.symbols
        if graph is None or not_on_venue(exit_settings(graph), row.venue, symbols) is None:
            return False
        try:
            account = await self._client().call_raw(
                "order-router", "accounts_get", {"account_id": row.account_id}, caller=caller
            )
        except RemoteError as error:
            if error.code == "not_found":
                return False  # the account is gone: the bot stops on its next order
            raise
        return account.get("kind") == "exchange"

    async def update(self, caller: CallerContext, body: BotUpdate) -> BotInfo:
        user_id = require_user(caller)
        venue_account = await self._on_venue_account(caller, body, user_id)
        async with AsyncExitStack() as undo, self._engine().begin() as conn:
            row = await self.bots.get(conn, body.bot_id, user_id, lock=True)
            if row is None or row.kind != "strategy":  # grid and DCA bots: not built yet
                raise no_bot(body.bot_id)
            if body.symbols is not None:  # checked as at create (the venue's listed symbols)
                await check_listed(self._client, row.venue, list(body.symbols), self.market_data_timeout_s)
            current = config_of(row)
            base: dict[str, Any] = pending_of(row) or current
            target = await self._target(conn, row, user_id, body, base, venue_account=venue_account)
            running = row.status in RUNNING  # it trades on with its own until stopped and started
            changes = changes_between(base if running else current, target)
            bot_id = uuid.UUID(str(row.id))
            if running and changes:
                await self.config.set_pending(conn, bot_id, None if target == current else target)
                await self.config.audit(conn, bot_id, user_id, changes, "next_start")
                changes = {}
            elif not running and (changes or row.pending_config is not None):
                await self.config.apply(conn, bot_id, target)
            if body.name is not None and body.name != row.name:
                changes["name"] = {"old": row.name, "new": body.name}
                await self.config.rename(conn, bot_id, body.name)
            limits = await limits_changed(  # at once, whatever the status
                undo, conn, self.risk_limits, self.bots, caller=caller, row=row, new=body.risk_limits,
                remove=body.remove_risk_limits,
            )  # fmt: skip
            if limits is not None:
                changes["risk_limits"] = limits
            if changes:
                await self.config.audit(conn, bot_id, user_id, changes, "now")
            updated = await self.bots.get(conn, body.bot_id, user_id)
            assert updated is not None
        return bot_info(updated)

    async def _target(
        self,
        conn: AsyncConnection,
        row: Any,
        user_id: str,
        body: BotUpdate,
        base: dict[str, Any],
        *,
        venue_account: bool,
    ) -> dict[str, Any]:
        """``base`` with the request's configuration fields, checked as at create."""
        target = dict(base)
        if body.strategy_version is not None and body.strategy_version != base["strategy_version"]:
            version = await self.strategies.version(
                conn, str(row.strategy_id), user_id, body.strategy_version
            )
            if version is None:
                raise field_invalid(
                    "strategy_version", f"no version {body.strategy_version} of strategy {row.strategy_id}"
                )
            target |= pinned_of(version)
        if body.timeframe is not None:
            target["timeframe"] = body.timeframe
        if body.sizing is not None:
            target["sizing"] = body.sizing.model_dump(mode="json")
        if body.max_position is not None:
            target["max_position"] = plain(body.max_position)
        if body.symbols is not None:
            target["symbols"] = list(body.symbols)
        sizing = BotSizing.model_validate(target["sizing"])
        check_live(
            target["graph"],
            sizing,
            version_field="strategy_version",
            venue=row.venue if venue_account else None,
            symbols=target["symbols"],
        )
        return target

    async def changes(self, caller: CallerContext, body: BotConfigChangesRequest) -> BotConfigChangeList:
        user_id = require_user(caller)
        before = None
        if body.cursor is not None:
            if not body.cursor.isdigit():
                raise field_invalid("cursor", "not a cursor this service returned")
            before = int(body.cursor)
        async with self._engine().connect() as conn:
            row = await self.bots.get(conn, body.bot_id, user_id)
            if row is None or row.kind != "strategy":
                raise no_bot(body.bot_id)
            rows = await self.config.history(conn, uuid.UUID(str(row.id)), fetch_size(body.limit), before)
        items, next_cursor = page_of(rows, body.limit, _entry, lambda entry: str(entry.change_id))
        return BotConfigChangeList(items=items, next_cursor=next_cursor)


def _entry(row: Any) -> BotConfigChangeEntry:
    return BotConfigChangeEntry(
        change_id=row.id, changes=row.changes, effective=row.effective, created_at=row.created_at
    )


def register(runtime: ServiceRuntime, api: BotConfigApi) -> None:
    """Every operation of ``contracts.bot_config.REQUESTS``."""
    register_kind(runtime, REQUESTS, {"bots_update": api.update, "bots_config_changes": api.changes})
