"""``/v1/bots``: the caller's live bots, each route one ``svc.strategy-runner.bots_<op>``.

A bot runs a pinned strategy version on one of the caller's paper accounts. Writes take scope
``trade`` (a running bot sends orders); reads take ``read``. Another user's bot answers 404, like
an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter, Query

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.bot_config import (
    BotConfigChange,
    BotConfigChangeList,
    BotConfigChangesRequest,
    BotUpdate,
)
from tradeloom.shared.contracts.bot_ledger import (
    BotLedgerPage,
    BotLedgerRef,
    BotOrderList,
    BotPerformance,
    BotPositions,
    BotTradeList,
)
from tradeloom.shared.contracts.bots import (
    BOT_STATUS,
    SERVICE,
    BotCreate,
    BotDecisionList,
    BotDecisionsRequest,
    BotDeleted,
    BotInfo,
    BotList,
    BotListRequest,
    BotRef,
)

router = APIRouter(prefix="/v1/bots", tags=["bots"])
READ, TRADE = Scope.READ, Scope.TRADE
BOT_ID = id_param("bot_id", "a bot id")


def _lifecycle(op: str, summary: str) -> Forward:
    return Forward(
        "POST", f"/{{bot_id}}/{op}", TRADE, SERVICE, f"bots_{op}", BotRef, BotInfo,
        name=f"{op}_bot", path_params=(BOT_ID,), errors=WRITE_ERRORS, summary=summary,
    )  # fmt: skip


ROUTES = (
    Forward(
        "POST", "", TRADE, SERVICE, "bots_create", BotCreate, BotInfo,
        name="create_bot", status=201, body=BotCreate, idempotent=True, errors=WRITE_ERRORS,
        summary="Create a bot (stopped) running a pinned strategy version on a paper account",
        description="Scope `trade`; takes `Idempotency-Key`. An unknown (or another user's) "
        "strategy version or account → 404 naming the field.",
    ),
    Forward(
        "GET", "", READ, SERVICE, "bots_list", BotListRequest, BotList,
        name="list_bots", page=True, cursor="bot_list", errors=READ_ERRORS,
        query=(Param("status", BOT_STATUS | None, Query(description="only bots with this status"), None),),
        summary="The caller's bots, newest first",
    ),
    Forward(
        "GET", "/{bot_id}", READ, SERVICE, "bots_get", BotRef, BotInfo,
        name="get_bot", path_params=(BOT_ID,), errors=READ_ERRORS,
        summary="One bot with its status and position",
    ),
    Forward(
        "PATCH", "/{bot_id}", TRADE, SERVICE, "bots_update", BotUpdate, BotInfo,
        name="update_bot", path_params=(BOT_ID,), body=BotConfigChange, errors=WRITE_ERRORS,
        summary="Change a bot's configuration (version, timeframe, sizing, max position, name)",
        description="Stored at once; a running or paused bot keeps trading with its current "
        "configuration until it is stopped and started again (`pending_config` shows the new one). "
        "An unknown version, bad sizing or an unknown field (symbol, account: a new bot) → 422 naming it. "
        "`risk_limits` apply at once; `remove_risk_limits: true` removes them at risk-monitor at once "
        "(`risk_limits` null or left out keeps them).",
    ),
    Forward(
        "DELETE", "/{bot_id}", TRADE, SERVICE, "bots_delete", BotRef, BotDeleted,
        name="delete_bot", path_params=(BOT_ID,), errors=WRITE_ERRORS,
        summary="Delete a stopped bot and its decision log (409 unless stopped)",
    ),
    _lifecycle("start", "Start a stopped, halted or errored bot: it decides on bars closing from now"),
    _lifecycle("stop", "Stop a bot: no more decisions"),
    _lifecycle("pause", "Pause a running bot"),
    _lifecycle("resume", "Resume a paused bot: it decides on bars closing from now"),
    Forward(
        "GET", "/{bot_id}/decisions", READ, SERVICE, "bots_decisions", BotDecisionsRequest, BotDecisionList,
        name="list_bot_decisions", path_params=(BOT_ID,), page=True, cursor="bot_decisions:{bot_id}",
        errors=READ_ERRORS, summary="A bot's decision log, newest first: signal, action, reason, order",
    ),
    Forward(
        "GET", "/{bot_id}/config-changes", READ, SERVICE, "bots_config_changes", BotConfigChangesRequest,
        BotConfigChangeList,
        name="list_bot_config_changes", path_params=(BOT_ID,), page=True,
        cursor="bot_config_changes:{bot_id}", errors=READ_ERRORS,
        summary="A bot's configuration changes, newest first: field, old and new, when it applies",
    ),
    Forward(
        "GET", "/{bot_id}/orders", READ, SERVICE, "bots_orders", BotLedgerPage, BotOrderList,
        name="list_bot_orders", path_params=(BOT_ID,), page=True, cursor="bot_orders:{bot_id}",
        errors=READ_ERRORS, summary="The bot's own orders (its sub-ledger), newest bar first",
    ),
    Forward(
        "GET", "/{bot_id}/trades", READ, SERVICE, "bots_trades", BotLedgerPage, BotTradeList,
        name="list_bot_trades", path_params=(BOT_ID,), page=True, cursor="bot_trades:{bot_id}",
        errors=READ_ERRORS, summary="The bot's executions (filled quantity at average price), newest first",
    ),
    Forward(
        "GET", "/{bot_id}/positions", READ, SERVICE, "bots_positions", BotLedgerRef, BotPositions,
        name="list_bot_positions", path_params=(BOT_ID,), errors=READ_ERRORS,
        summary="The bot's own positions with average entry, mark, realised and unrealised PnL",
    ),
    Forward(
        "GET", "/{bot_id}/performance", READ, SERVICE, "bots_performance", BotLedgerRef, BotPerformance,
        name="get_bot_performance", path_params=(BOT_ID,), errors=READ_ERRORS,
        summary="The bot's PnL (realised, unrealised, net of fees), round trips, win rate and volume",
        description="Kept apart from the account's other orders: only the bot's tagged orders count.",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
