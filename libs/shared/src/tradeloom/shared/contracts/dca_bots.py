"""DCA bots of strategy-runner (``svc.strategy-runner.dca_bots_*``): dollar-cost averaging cycles on
one paper account.

Like a grid bot, a DCA bot has no strategy, sizing or timeframe: its own request and info models
(``BotInfo``'s published ``strategy_id`` stays required). A cycle buys ``base_quantity`` at market,
then rests safety buys ``s<k>`` at ``entry × (1 − d_k)`` (``d_1 = price_deviation``, each step
``step_scale`` times the last, each size ``volume_scale`` times the last) and one take-profit sell
of everything at ``average × (1 + take_profit)``, moved by each safety fill; when it fills, the
unfilled safeties are cancelled and the next cycle's base is bought. Client order ids derive from
(bot, cycle, step), so a redelivered fill or a restart never sends an order twice.

Error codes: ``validation_error`` 422 naming the field (quantities off the lot, ranges, the cycle's
budget over the free balance, an unlisted symbol or one without a price), ``unauthorized`` 401,
``not_found`` 404, ``conflict`` 409 (a transition its status does not allow).

``dca_bots_update`` changes a DCA bot: ``name`` and ``risk_limits`` (put at risk-monitor; removed by
``remove_risk_limits``) at once whatever its status; the cycle's settings are checked against the
market as at create and the next start begins a new cycle with them (what the stopped cycle holds
stays in the bot's position). A running or paused bot keeps its cycle and orders and shows them as
``pending_config`` until then. Each change is listed by ``dca_bots_config_changes``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradeloom.shared.contracts.bot_config import BotConfigChangeList, BotConfigChangesRequest
from tradeloom.shared.contracts.bot_risk import REMOVE_RISK_LIMITS, BotRiskLimits, check_remove_risk_limits
from tradeloom.shared.contracts.bots import BOT_STATUS, ID, SERVICE, BotRef
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import Positive, WireDecimal


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class DcaBotCreate(_Model):
    """A new DCA bot (status ``stopped``); its first cycle's base is bought on start."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["btc dca"])
    account_id: str = ID
    symbol: str = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
    venue: str = Field(default="sim", min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")
    base_quantity: Positive = Field(examples=["0.01"], description="the market buy opening a cycle")
    safety_quantity: Positive = Field(examples=["0.01"], description="the first safety buy's quantity")
    price_deviation: Positive = Field(lt=1, examples=["0.02"], description="first safety step below the base")
    max_safety_orders: int = Field(ge=0, le=50, examples=[3])
    take_profit: Positive = Field(le=10, examples=["0.015"], description="fraction above the average entry")
    step_scale: Positive = Field(default=Decimal(1), le=10, description="each safety step × this")
    volume_scale: Positive = Field(default=Decimal(1), le=10, description="each safety size × this")
    risk_limits: BotRiskLimits | None = Field(
        default=None,
        description="the bot's own limits, registered with risk-monitor (limits_put with the bot's id); "
        "refused there: 422 naming risk_limits.<field> and no bot; risk-monitor not answering: 503, no bot",
    )


class DcaBotConfigChange(_Model):
    """What to change; a field left out stays (the body of ``PATCH /v1/dca-bots/{bot_id}``)."""

    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w.\- ]+$")
    base_quantity: Positive | None = None
    safety_quantity: Positive | None = None
    price_deviation: Positive | None = Field(default=None, lt=1)
    max_safety_orders: int | None = Field(default=None, ge=0, le=50)
    take_profit: Positive | None = Field(default=None, le=10)
    step_scale: Positive | None = Field(default=None, le=10)
    volume_scale: Positive | None = Field(default=None, le=10)
    risk_limits: BotRiskLimits | None = Field(
        default=None, description="the whole new set, put at risk-monitor: applies at once"
    )
    # the example of the whole change sets risk_limits: this one must not remove them too
    remove_risk_limits: bool = Field(default=False, examples=[False], description=REMOVE_RISK_LIMITS)

    _remove = field_validator("remove_risk_limits")(check_remove_risk_limits)


class DcaBotUpdate(DcaBotConfigChange):
    bot_id: str = ID


class DcaFillInfo(_Model):
    step: int = Field(description="0: the base, k: safety order k")
    price: WireDecimal
    quantity: WireDecimal


class DcaPendingConfig(_Model):
    """Cycle settings stored by ``dca_bots_update`` while the bot ran or was paused: its next
    start's cycle runs them; until then the bot keeps its own (``DcaBotInfo``'s fields)."""

    base_quantity: WireDecimal
    safety_quantity: WireDecimal
    price_deviation: WireDecimal
    max_safety_orders: int
    take_profit: WireDecimal
    step_scale: WireDecimal
    volume_scale: WireDecimal


class DcaBotInfo(_Model):
    bot_id: str
    name: str
    account_id: str
    venue: str
    symbol: str
    base_quantity: WireDecimal
    safety_quantity: WireDecimal
    price_deviation: WireDecimal
    max_safety_orders: int
    take_profit: WireDecimal
    step_scale: WireDecimal
    volume_scale: WireDecimal
    status: BOT_STATUS
    status_reason: str = ""
    position: str = Field(description="the bot's own filled quantity (its sub-ledger), decimal string")
    cycle: int = Field(description="the current cycle (a completed take-profit or a restart starts the next)")
    fills: list[DcaFillInfo] = Field(description="the current cycle's filled buys, base first")
    average_entry: WireDecimal | None = None
    take_profit_price: WireDecimal | None = Field(default=None, description="where the take-profit rests")
    created_at: datetime
    updated_at: datetime
    risk_limits: BotRiskLimits | None = Field(
        default=None,
        description="the limits registered with risk-monitor (at create, or by an update); null: none",
    )
    pending_config: DcaPendingConfig | None = Field(
        default=None,
        description="the cycle settings its next start runs (an update while it ran or was paused); null: "
        "none pending, the settings above are what it runs",
    )


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


REQUESTS: tuple[RequestContract, ...] = (
    _rq("dca_bots_create", DcaBotCreate, DcaBotInfo, "Create a DCA bot (stopped), checked against the market."),
    _rq("dca_bots_get", BotRef, DcaBotInfo, "One of the caller's DCA bots with its cycle."),
    _rq("dca_bots_start", BotRef, DcaBotInfo, "Start a DCA bot: a new cycle's base is bought."),
    _rq("dca_bots_stop", BotRef, DcaBotInfo, "Stop a DCA bot: its open orders are cancelled."),
    _rq(
        "dca_bots_update",
        DcaBotUpdate,
        DcaBotInfo,
        "Change a DCA bot: its name and limits at once, its cycle's settings from its next start.",
    ),
    _rq(
        "dca_bots_config_changes",
        BotConfigChangesRequest,
        BotConfigChangeList,
        "A DCA bot's configuration changes, newest first.",
    ),
)
