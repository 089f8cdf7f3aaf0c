"""Bot operations: create, get, list, start, stop, pause, resume, delete, decisions.

Every bot belongs to the caller (``tl-user-id``); an unknown id, a malformed one and another
user's get the same not_found. Status changes happen under the bot's row lock and publish
``strategy.evt.bot_status`` through the outbox in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bots import (
    BotCreate,
    BotDecisionList,
    BotDecisionsRequest,
    BotDeleted,
    BotInfo,
    BotList,
    BotListRequest,
    BotRef,
    BotSizing,
)
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user
from tradeloom.shared.ids import new_event_id
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient, risk_limits_of
from tradeloom.strategy_runner.bots.bot_settings import apply_pending, check_live, pending_view
from tradeloom.strategy_runner.bots.bot_symbols import check_listed, requested_symbols
from tradeloom.strategy_runner.bots.events import decision_of, status_changed
from tradeloom.strategy_runner.store.bot_config_store import BotConfigStore
from tradeloom.strategy_runner.store.bot_exits_store import BotExitsStore
from tradeloom.strategy_runner.store.bot_ledger_store import BotLedgerStore
from tradeloom.strategy_runner.store.bots_store import BotsStore
from tradeloom.strategy_runner.store.strategies_store import StrategiesStore

# op → (statuses it may start from, the new status, decide only on bars closing from now on)
TRANSITIONS: dict[str, tuple[frozenset[str], str, bool]] = {
    "start": (frozenset({"stopped", "halted", "error"}), "running", True),
    "stop": (frozenset({"running", "paused", "halted", "error", "stopped"}), "stopped", False),
    "pause": (frozenset({"running"}), "paused", False),
    "resume": (frozenset({"paused"}), "running", True),
}


def no_bot(bot_id: str) -> NotFound:
    return NotFound(f"no bot {bot_id}", details={"bot_id": bot_id})


def bot_info(row: Row[Any]) -> BotInfo:
    return BotInfo(
        bot_id=str(row.id), name=row.name, strategy_id=str(row.strategy_id),
        strategy_version=row.strategy_version, template=row.template, params=row.params,
        account_id=row.account_id, venue=row.venue, symbol=row.symbol, symbols=list(row.symbols),
        timeframe=row.timeframe,
        sizing=BotSizing.model_validate(row.sizing), max_position=Decimal(row.max_position),
        status=row.status, status_reason=row.status_reason, position=str(Decimal(row.position).normalize()),
        last_bar_ns=row.last_bar_ns, created_at=row.created_at, updated_at=row.updated_at,
        risk_limits=risk_limits_of(row),
        pending_config=pending_view(row),
    )  # fmt: skip


class BotsApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        client: Callable[[], ServiceClient],
        outbox: Callable[[], Outbox],
        schema: str,
        risk_limits: BotRiskLimitsClient,
        *,
        market_data_timeout_s: float = 2.0,
    ) -> None:
        self._engine = engine
        self.market_data_timeout_s = market_data_timeout_s
        self._client = client
        self._outbox = outbox
        self.risk_limits = risk_limits
        self.bots = BotsStore(schema)
        self.config = BotConfigStore(schema)
        self.exit_rows = BotExitsStore(schema)
        self.ledger = BotLedgerStore(schema)
        self.strategies = StrategiesStore(schema)

    async def create(self, caller: CallerContext, body: BotCreate) -> BotInfo:
        user_id = require_user(caller)
        symbols = requested_symbols(body)
        if body.symbols is not None:  # a list is checked against market-data's registry
            await check_listed(self._client, body.venue, symbols, self.market_data_timeout_s)
        account = await self._check_account(caller, body.account_id)
        venue_account = account.get("kind") == "exchange"
        if venue_account and account.get("venue") != body.venue:
            # the bot decides on the venue's candles and the account trades at its own venue
            raise field_invalid(
                "venue", f"the exchange account trades on {account.get('venue')}; the bot's venue must be it"
            )
        bot_id = new_event_id()
        limits = body.risk_limits
        async with self._engine().begin() as conn:
            version = await self.strategies.version(conn, body.strategy_id, user_id, body.strategy_version)
            if version is None:
                raise NotFound(
                    f"no version {body.strategy_version} of strategy {body.strategy_id}",
                    details={"fields": [{"field": "strategy_id", "message": "not found"}]},
                )
            check_live(
                version.graph,
                body.sizing,
                version_field="strategy_id",
                venue=body.venue if venue_account else None,
                symbols=symbols,
            )
            values = body.model_dump(mode="json", exclude={"risk_limits"}) | {
                "user_id": user_id, "strategy_id": version.strategy_id, "template": version.template,
                "params": version.params, "max_position": body.max_position, "graph": version.graph,
                "code": version.code, "symbol": symbols[0], "symbols": symbols,
            }  # fmt: skip
        # the limits first (a refusal leaves nothing), removed again if the bot is not committed
        async with self.risk_limits.registered(caller, bot_id, body.account_id, limits) as conn:
            await self.bots.create(conn, bot_id, values)
            if limits is not None:
                await self.bots.set_risk_limits(conn, uuid.UUID(bot_id), limits.model_dump(mode="json"))
            await status_changed(
                conn, self._outbox(), bot_id, user_id=user_id, status="stopped", previous=None,
                reason="created",
            )  # fmt: skip
            row = await self.bots.get(conn, bot_id, user_id)
            assert row is not None
        return bot_info(row)

    async def _check_account(self, caller: CallerContext, account_id: str) -> dict[str, Any]:
        """The account must be one of the caller's (order-router answers not_found otherwise);
        its ``AccountInfo`` (kind, venue)."""
        try:
            return await self._client().call_raw(
                "order-router", "accounts_get", {"account_id": account_id}, caller=caller
            )
        except RemoteError as error:
            if error.code == "not_found":
                raise NotFound(
                    f"no account {account_id}",
                    details={"fields": [{"field": "account_id", "message": "not found"}]},
                ) from None
            raise

    async def get(self, caller: CallerContext, body: BotRef) -> BotInfo:
        user_id = require_user(caller)
        async with self._engine().connect() as conn:
            row = await self.bots.get(conn, body.bot_id, user_id)
        if row is None or row.kind != "strategy":  # a grid bot is one of grid_bots_*
            raise no_bot(body.bot_id)
        return bot_info(row)

    async def list(self, caller: CallerContext, body: BotListRequest) -> BotList:
        user_id = require_user(caller)
        after = uuid_cursor(body.cursor)
        async with self._engine().connect() as conn:
            rows = await self.bots.list_bots(conn, user_id, body.status, fetch_size(body.limit), after)
        items, next_cursor = page_of(rows, body.limit, bot_info, lambda bot: bot.bot_id)
        return BotList(items=items, next_cursor=next_cursor)

    async def start(self, caller: CallerContext, body: BotRef) -> BotInfo:
        return await self._transition(caller, body.bot_id, "start")

    async def stop(self, caller: CallerContext, body: BotRef) -> BotInfo:
        return await self._transition(caller, body.bot_id, "stop")

    async def pause(self, caller: CallerContext, body: BotRef) -> BotInfo:
        return await self._transition(caller, body.bot_id, "pause")

    async def resume(self, caller: CallerContext, body: BotRef) -> BotInfo:
        return await self._transition(caller, body.bot_id, "resume")

    async def _transition(self, caller: CallerContext, bot_id: str, op: str) -> BotInfo:
        user_id = require_user(caller)
        allowed, status, from_mark = TRANSITIONS[op]
        async with self._engine().begin() as conn:
            row = await self.bots.get(conn, bot_id, user_id, lock=True)
            if row is None or row.kind != "strategy":  # a grid bot is one of grid_bots_*
                raise no_bot(bot_id)
            if row.status not in allowed:
                raise Conflict(f"cannot {op} a {row.status} bot", details={"status": row.status})
            if row.status != status:
                if op == "start":  # a configuration stored while it ran takes effect now
                    await apply_pending(conn, self.config, row)
                await self.bots.set_status(conn, row.id, status, "", from_mark=from_mark)
                if op == "stop":  # its resting bracket exits: the cancel loop cancels them
                    await self.exit_rows.flag_open_exits(conn, row.id)
                await status_changed(
                    conn,
                    self._outbox(),
                    bot_id,
                    user_id=user_id,
                    status=status,
                    previous=row.status,
                    reason=op,
                )
                row = await self.bots.get(conn, bot_id, user_id)
                assert row is not None
        return bot_info(row)

    async def delete(self, caller: CallerContext, body: BotRef) -> BotDeleted:
        user_id = require_user(caller)
        async with self._engine().begin() as conn:
            row = await self.bots.get(conn, body.bot_id, user_id, lock=True)
            if row is None:
                raise no_bot(body.bot_id)
            if row.status != "stopped":
                raise Conflict("stop the bot before deleting it", details={"status": row.status})
            await self.bots.delete(conn, row.id)
            # its limits (a copy or any set at risk-monitor directly): now, or by the sweep
            await self.risk_limits.deleted(conn, str(row.id), user_id, row.account_id)
        await self.risk_limits.remove_quietly(caller, str(row.id), row.account_id)
        return BotDeleted(bot_id=body.bot_id, deleted=True)

    async def decisions(self, caller: CallerContext, body: BotDecisionsRequest) -> BotDecisionList:
        user_id = require_user(caller)
        before = None
        if body.cursor is not None:
            if not body.cursor.isdigit():
                raise field_invalid("cursor", "not a cursor this service returned")
            before = int(body.cursor)
        async with self._engine().connect() as conn:
            row = await self.bots.get(conn, body.bot_id, user_id)
            if row is None:
                raise no_bot(body.bot_id)
            rows = await self.ledger.decisions(conn, uuid.UUID(str(row.id)), fetch_size(body.limit), before)
        items, next_cursor = page_of(rows, body.limit, decision_of, lambda d: str(d.decision_id))
        return BotDecisionList(items=items, next_cursor=next_cursor)
