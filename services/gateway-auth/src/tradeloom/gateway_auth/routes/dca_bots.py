"""``/v1/dca-bots``: the caller's DCA bots, each route one ``svc.strategy-runner.dca_bots_<op>``.

A DCA bot buys a base at market, rests safety buys below it and a take-profit sell of everything
above the average entry, moved by each fill. Its orders, trades, positions, performance and
deletion are the bots' routes (``/v1/bots/{bot_id}/orders`` …, ``DELETE /v1/bots/{bot_id}``).
Writes take scope ``trade``; reads take ``read``. Another user's bot answers 404, like an unknown one.
"""

from __future__ import annotations

from fastapi import APIRouter

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward
from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.contracts.bots import SERVICE, BotRef
from tradeloom.shared.contracts.dca_bots import DcaBotConfigChange, DcaBotCreate, DcaBotInfo, DcaBotUpdate

router = APIRouter(prefix="/v1/dca-bots", tags=["bots"])
READ, TRADE = Scope.READ, Scope.TRADE
BOT_ID = id_param("bot_id", "a DCA bot id")

ROUTES = (
    Forward(
        "POST", "", TRADE, SERVICE, "dca_bots_create", DcaBotCreate, DcaBotInfo,
        name="create_dca_bot", status=201, body=DcaBotCreate, idempotent=True, errors=WRITE_ERRORS,
        summary="Create a DCA bot (stopped) on a paper account, checked against the market",
        description="Scope `trade`; takes `Idempotency-Key`. 422 naming the field: quantities off the "
        "lot, the cycle's budget (base + every safety order) over the free quote balance, the last "
        "safety order not above 0, a `symbol` not listed or without a price yet.",
    ),
    Forward(
        "GET", "/{bot_id}", READ, SERVICE, "dca_bots_get", BotRef, DcaBotInfo,
        name="get_dca_bot", path_params=(BOT_ID,), errors=READ_ERRORS,
        summary="One DCA bot with its status, position, cycle, fills and take-profit",
    ),
    Forward(
        "POST", "/{bot_id}/start", TRADE, SERVICE, "dca_bots_start", BotRef, DcaBotInfo,
        name="start_dca_bot", path_params=(BOT_ID,), errors=WRITE_ERRORS,
        summary="Start a DCA bot: a new cycle's base is bought at market",
    ),
    Forward(
        "POST", "/{bot_id}/stop", TRADE, SERVICE, "dca_bots_stop", BotRef, DcaBotInfo,
        name="stop_dca_bot", path_params=(BOT_ID,), errors=WRITE_ERRORS,
        summary="Stop a DCA bot: its open orders are cancelled",
    ),
    Forward(
        "PATCH", "/{bot_id}", TRADE, SERVICE, "dca_bots_update", DcaBotUpdate, DcaBotInfo,
        name="update_dca_bot", path_params=(BOT_ID,), body=DcaBotConfigChange, errors=WRITE_ERRORS,
        summary="Change a DCA bot: its name and risk limits at once, its cycle settings from its next start",
        description="The cycle's settings: its next start's cycle runs them; a running or paused bot "
        "keeps its cycle and orders until then (`pending_config` shows the new settings). "
        "Checked against the market as at create → 422 naming the field; `risk_limits` put at "
        "risk-monitor (refused: 422 `risk_limits.<field>`, no answer: 503/504, nothing changed); "
        "`remove_risk_limits: true` removes them there at once (`risk_limits` null or left out keeps them).",
    ),
    Forward(
        "GET", "/{bot_id}/config-changes", READ, SERVICE, "dca_bots_config_changes",
        BotConfigChangesRequest, BotConfigChangeList,
        name="list_dca_bot_config_changes", path_params=(BOT_ID,), page=True,
        cursor="bot_config_changes:{bot_id}", errors=READ_ERRORS,
        summary="A DCA bot's configuration changes, newest first: field, old and new",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
