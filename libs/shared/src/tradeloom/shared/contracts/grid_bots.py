"""Grid bots of strategy-runner (``svc.strategy-runner.grid_bots_*``): a long grid on one paper account.

A grid bot has no strategy, sizing or timeframe, so it has its own request and info models (not a
variant of ``BotCreate``/``BotInfo``, whose published ``strategy_id`` stays required). ``levels``
prices evenly spaced from ``lower`` to ``upper`` (rounded to the tick); lot ``k`` rests a buy limit
at level ``k`` while the price is above it, and once bought a sell limit one level up; a fill turns
the order into the opposite one. Every order's ``client_order_id`` is derived from (bot, lot, side,
cycle), so a redelivered fill or a restart never sends an order twice. It shares the bots' status
events (``strategy.evt.bot_status``), their orders/trades/positions views and the risk halts.

Error codes: ``validation_error`` 422 naming the field (``upper`` not above ``lower``, ``levels``
out of range or denser than the tick, ``lower``/``upper`` off the tick, ``quantity_per_level`` off
the lot or over the free balance), ``unauthorized`` 401, ``not_found`` 404 (unknown or another
user's bot or account, an unlisted symbol), ``conflict`` 409 (a transition its status does not allow).

``grid_bots_update`` changes a grid bot: ``name`` and ``risk_limits`` (put at risk-monitor; removed
by ``remove_risk_limits``) at once whatever its status; the ladder (``lower``, ``upper``, ``levels``,
``quantity_per_level``) is checked against the market as at create and starts new lots (a new client
id generation): what the old lots held stays in the bot's position, outside the new ladder. A
stopped bot takes it at once; a running or paused one keeps its ladder and orders and gets it as
``pending_config``, placed by its next start. Each change is listed by ``grid_bots_config_changes``
(``next_start`` for a pending one, ``started`` when a start applies it).
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.contracts.bot_risk import REMOVE_RISK_LIMITS, BotRiskLimits, check_remove_risk_limits
from tradeloom.shared.contracts.bots import BOT_STATUS, ID, SERVICE, BotRef
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import Positive, WireDecimal


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class GridBotCreate(_Model):
    """A new grid bot (status ``stopped``); its ladder is placed on start."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["btc grid"])
    account_id: str = ID
    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    venue: str = Field(default="sim", min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")
    lower: Positive = Field(examples=["90000"], description="the lowest level (a multiple of the tick)")
    upper: Positive = Field(examples=["110000"], description="the highest level (a multiple of the tick)")
    levels: int = Field(ge=2, le=200, examples=[11], description="prices from lower to upper, both included")
    quantity_per_level: Positive = Field(examples=["0.001"], description="each lot's quantity")
    risk_limits: BotRiskLimits | None = Field(
        default=None,
        description="the bot's own limits, registered with risk-monitor (limits_put with the bot's id); "
        "refused there: 422 naming risk_limits.<field> and no bot; risk-monitor not answering: 503, no bot",
    )


class GridBotConfigChange(_Model):
    """What to change; a field left out stays (the body of ``PATCH /v1/grid-bots/{bot_id}``)."""

    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w.\- ]+$")
    lower: Positive | None = None
    upper: Positive | None = None
    levels: int | None = Field(default=None, ge=2, le=200)
    quantity_per_level: Positive | None = None
    risk_limits: BotRiskLimits | None = Field(
        default=None, description="the whole new set, put at risk-monitor: applies at once"
    )
    # the example of the whole change sets risk_limits: this one must not remove them too
    remove_risk_limits: bool = Field(default=False, examples=[False], description=REMOVE_RISK_LIMITS)

    _remove = field_validator("remove_risk_limits")(check_remove_risk_limits)


class GridBotUpdate(GridBotConfigChange):
    bot_id: str = ID


class GridLotInfo(_Model):
    index: int = Field(description="lot k buys at level k and sells at level k + 1")
    buy_price: WireDecimal
    sell_price: WireDecimal
    holding: bool = Field(description="bought: its sell rests; else its buy rests (when the price is above)")
    cycle: int = Field(description="completed buy-sell round trips")


class GridPendingConfig(_Model):
    """A ladder stored by ``grid_bots_update`` while the bot ran or was paused: its next start
    places it (new lots); until then the bot keeps its own (``GridBotInfo``'s fields)."""

    lower: WireDecimal
    upper: WireDecimal
    levels: int
    quantity_per_level: WireDecimal


class GridBotInfo(_Model):
    bot_id: str
    name: str
    account_id: str
    venue: str
    symbol: str
    lower: WireDecimal
    upper: WireDecimal
    levels: int
    quantity_per_level: WireDecimal
    status: BOT_STATUS
    status_reason: str = ""
    position: str = Field(description="the bot's own filled quantity (its sub-ledger), decimal string")
    lots: list[GridLotInfo] = Field(description="the ladder's lots, lowest first")
    created_at: datetime
    updated_at: datetime
    risk_limits: BotRiskLimits | None = Field(
        default=None,
        description="the limits registered with risk-monitor (at create, or by an update); null: none",
    )
    pending_config: GridPendingConfig | None = Field(
        default=None,
        description="the ladder its next start places (an update while it ran or was paused); null: none "
        "pending, the ladder above is what it runs",
    )


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq(
        "grid_bots_create",
        GridBotCreate,
        GridBotInfo,
        "Create a grid bot (stopped), checked against the market.",
    ),
    _rq("grid_bots_get", BotRef, GridBotInfo, "One of the caller's grid bots with its lots."),
    _rq("grid_bots_start", BotRef, GridBotInfo, "Start a grid bot: its resting ladder is placed."),
    _rq("grid_bots_stop", BotRef, GridBotInfo, "Stop a grid bot: its open orders are cancelled."),
    _rq(
        "grid_bots_update",
        GridBotUpdate,
        GridBotInfo,
        "Change a grid bot: its name and limits at once, its ladder at once or (running) at its next start.",
    ),
    _rq(
        "grid_bots_config_changes",
        BotConfigChangesRequest,
        BotConfigChangeList,
        "A grid bot's configuration changes, newest first.",
    ),
)
