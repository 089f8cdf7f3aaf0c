"""``/v1/grid-bots``: the caller's grid bots, each route one ``svc.strategy-runner.grid_bots_<op>``.

A grid bot rests a ladder of limit orders on one of the caller's paper accounts and replaces each
fill with the opposite order. Its orders, trades, positions, performance and deletion are the
bots' routes (``/v1/bots/{bot_id}/orders`` …, ``DELETE /v1/bots/{bot_id}``). Writes take scope
``trade``; reads take ``read``. Another user's bot answers 404, like an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.contracts.bots import SERVICE, BotRef
from tradeloom.shared.contracts.grid_bots import (
    GridBotConfigChange,
    GridBotCreate,
    GridBotInfo,
    GridBotUpdate,
)

router = APIRouter(prefix="/v1/grid-bots", tags=["bots"])
READ, TRADE = Scope.READ, Scope.TRADE
BOT_ID = id_param("bot_id", "a grid bot id")

ROUTES = (
    Forward(
        "POST", "", TRADE, SERVICE, "grid_bots_create", GridBotCreate, GridBotInfo,
        name="create_grid_bot", status=201, body=GridBotCreate, idempotent=True, errors=WRITE_ERRORS,
        summary="Create a grid bot (stopped) on a paper account, checked against the market",
        description="Scope `trade`; takes `Idempotency-Key`. 422 naming the field: `upper` not above "
        "`lower`, `levels` denser than the tick, `lower`/`upper` off the tick, `quantity_per_level` off "
        "the lot or its buys over the free quote balance, a `symbol` not listed or without a price yet.",
    ),
    Forward(
        "GET", "/{bot_id}", READ, SERVICE, "grid_bots_get", BotRef, GridBotInfo,
        name="get_grid_bot", path_params=(BOT_ID,), errors=READ_ERRORS,
        summary="One grid bot with its status, position and lots",
    ),
    Forward(
        "POST", "/{bot_id}/start", TRADE, SERVICE, "grid_bots_start", BotRef, GridBotInfo,
        name="start_grid_bot", path_params=(BOT_ID,), errors=WRITE_ERRORS,
        summary="Start a grid bot: its ladder rests as limit orders at the last trade's price",
    ),
    Forward(
        "POST", "/{bot_id}/stop", TRADE, SERVICE, "grid_bots_stop", BotRef, GridBotInfo,
        name="stop_grid_bot", path_params=(BOT_ID,), errors=WRITE_ERRORS,
        summary="Stop a grid bot: its open orders are cancelled",
    ),
    Forward(
        "PATCH", "/{bot_id}", TRADE, SERVICE, "grid_bots_update", GridBotUpdate, GridBotInfo,
        name="update_grid_bot", path_params=(BOT_ID,), body=GridBotConfigChange, errors=WRITE_ERRORS,
        summary="Change a grid bot: its name and risk limits at once, its ladder now or at its next start",
        description="The ladder (`lower`, `upper`, `levels`, `quantity_per_level`): new lots; what the "
        "old ones held stays in the bot's position. A running or paused bot keeps its ladder, lots and "
        "orders until its next start (`pending_config` shows the new ladder). Checked against the market "
        "as at create → 422 naming the field; `risk_limits` put at risk-monitor (refused: 422 "
        "`risk_limits.<field>`, no answer: 503/504, nothing changed); `remove_risk_limits: true` removes "
        "them there at once (`risk_limits` null or left out keeps them).",
    ),
    Forward(
        "GET", "/{bot_id}/config-changes", READ, SERVICE, "grid_bots_config_changes",
        BotConfigChangesRequest, BotConfigChangeList,
        name="list_grid_bot_config_changes", path_params=(BOT_ID,), page=True,
        cursor="bot_config_changes:{bot_id}", errors=READ_ERRORS,
        summary="A grid bot's configuration changes, newest first: field, old and new",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
