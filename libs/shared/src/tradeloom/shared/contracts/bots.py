"""Live bots of strategy-runner (``svc.strategy-runner.bots_*``, ``strategy.evt.bot_*``).

A bot runs one pinned strategy version (a built-in template with its parameters) on one of the
owner's paper accounts, for one or more symbols (``symbols``, at most 20) and a timeframe. On each
closed candle of one of its symbols a running bot evaluates the strategy's signals on that
symbol's closed bars and sends a market order to order-router with a ``client_order_id`` derived
from (bot, symbol, bar), so a redelivered candle or a restart never sends a second order. Each
symbol is traded independently: its own position, signals, orders, sizing and ``max_position``.
Bots trade long only (spot): a short entry of the strategy means flat.

Error codes: ``validation_error`` 422 naming the field, ``unauthorized`` 401, ``not_found`` 404
(unknown or another user's bot, strategy version or account), ``conflict`` 409 (a transition the
bot's status does not allow, e.g. delete while running).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tradeloom.shared.contracts.bot_risk import BotRiskLimits
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.wire import Positive
from tradeloom.shared.envelope import Event

SERVICE = "strategy-runner"
MAX_BOT_SYMBOLS = 20
BotSymbol = Annotated[str, Field(min_length=3, max_length=64)]
BOT_STATUS = Literal["stopped", "running", "paused", "halted", "error"]
DECISION_ACTION = Literal["hold", "buy", "sell", "refused", "failed"]
ID = Field(min_length=1, max_length=64, examples=["0190f0a0-0000-7000-8000-000000000001"])
TIMEFRAME = Literal["1m", "5m", "15m", "1h", "4h", "1d", "1w"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class BotSizing(_Request):
    """How much an entry buys (always capped by ``max_position``): ``fixed``, ``quantity`` of the
    base asset; ``equity_pct``, ``percent`` of the account's free quote balance at the bar's close,
    rounded down to the instrument's lot."""

    # kind picks the one amount that is set: the schema cannot say so, the example must
    model_config = ConfigDict(json_schema_extra={"examples": [{"kind": "fixed", "quantity": "0.25"}]})

    kind: Literal["fixed", "equity_pct"] = "fixed"
    quantity: Positive | None = None
    percent: Positive | None = Field(default=None, le=100)

    @model_validator(mode="after")
    def _one_amount(self) -> BotSizing:
        if self.kind == "fixed" and (self.quantity is None or self.percent is not None):
            raise ValueError("kind 'fixed' takes quantity (and no percent)")
        if self.kind == "equity_pct" and (self.percent is None or self.quantity is not None):
            raise ValueError("kind 'equity_pct' takes percent (and no quantity)")
        return self


class BotCreate(_Request):
    """A new bot (status ``stopped``) pinning ``strategy_id`` at ``strategy_version``."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["btc trend bot"])
    strategy_id: str = ID
    strategy_version: int = Field(ge=1, le=1_000_000)
    account_id: str = ID
    symbol: str | None = Field(
        default=None, min_length=3, max_length=64, examples=["BTC/USDT"],
        description="the bot's symbol (or its first one: then it must be the first of symbols)",
    )  # fmt: skip
    symbols: list[BotSymbol] | None = Field(
        default=None, min_length=1, max_length=MAX_BOT_SYMBOLS, examples=[["BTC/USDT", "ETH/USDT"]],
        description="several symbols, each traded independently (1-20, unique); symbol, if also "
        "given, must be the first",
    )  # fmt: skip
    venue: str = Field(default="sim", min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")
    timeframe: TIMEFRAME = "1m"
    sizing: BotSizing
    max_position: Positive = Field(description="the bot never holds more than this quantity (per symbol)")
    risk_limits: BotRiskLimits | None = Field(
        default=None,
        description="the bot's own limits, registered with risk-monitor (limits_put with the bot's id); "
        "refused there: 422 naming risk_limits.<field> and no bot; risk-monitor not answering: 503, no bot",
    )

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str] | None) -> list[str] | None:
        return unique_symbols(value)


def unique_symbols(value: list[str] | None) -> list[str] | None:
    """A bot's symbols each once (``BotCreate.symbols``, ``BotConfigChange.symbols``)."""
    if value is None:
        return None
    repeated = sorted({s for s in value if value.count(s) > 1})
    if repeated:
        raise ValueError(f"duplicate symbol {', '.join(repeated)}")
    return value


class BotRef(_Request):
    bot_id: str = ID


class BotListRequest(_Request):
    status: BOT_STATUS | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class BotDecisionsRequest(_Request):
    bot_id: str = ID
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class BotPendingConfig(_Reply):
    """A configuration stored by ``bots_update`` while the bot runs or is paused: it takes effect
    at the bot's next start (``bot_config``)."""

    strategy_version: int
    template: str
    params: dict[str, int | float | bool]
    timeframe: str
    sizing: BotSizing
    max_position: Positive
    symbols: list[str] | None = Field(
        default=None, description="the symbols its next start trades (null: a change stored before symbols could change)"
    )


class BotInfo(_Reply):
    bot_id: str
    name: str
    strategy_id: str
    strategy_version: int
    template: str
    params: dict[str, int | float | bool]
    account_id: str
    venue: str
    symbol: str = Field(description="its first symbol")
    symbols: list[str] = Field(default_factory=list, description="every symbol it trades, the first first")
    timeframe: str
    sizing: BotSizing
    max_position: Positive
    status: BOT_STATUS
    status_reason: str = ""
    position: str = Field(
        description="the bot's own filled quantity of its first symbol (its sub-ledger), decimal string; "
        "every symbol's in bots_positions"
    )
    last_bar_ns: int | None = Field(default=None, description="open time of the last bar it decided on")
    created_at: datetime
    updated_at: datetime
    risk_limits: BotRiskLimits | None = Field(
        default=None,
        description="the limits registered with risk-monitor (at create, or by bots_update); null: none",
    )
    pending_config: BotPendingConfig | None = Field(
        default=None, description="the configuration its next start runs, when it differs from the current"
    )


class BotList(_Reply):
    items: list[BotInfo] = Field(description="newest first")
    next_cursor: str | None = None


class BotDeleted(_Reply):
    bot_id: str
    deleted: bool


class BotDecision(_Reply):
    decision_id: int
    bot_id: str
    bar_ns: int = Field(description="open time of the closed bar decided on")
    symbol: str | None = Field(default=None, description="the symbol of the bar (null on older entries)")
    signal: str = Field(
        examples=["entry_long"], description="entry_long, exit_long, entry_short, exit_short, none"
    )
    action: DECISION_ACTION
    reason: str
    quantity: str | None = None
    client_order_id: str | None = None
    order_id: str | None = None
    created_at: datetime


class BotDecisionList(_Reply):
    items: list[BotDecision] = Field(description="newest first")
    next_cursor: str | None = None


# ---------------------------------------------------------------------------------------- events
class BotStatusChanged(Event):
    """A bot's status changed, on ``strategy.evt.bot_status.v1.<bot_id>``."""

    domain: ClassVar[str] = "strategy"
    name: ClassVar[str] = "bot_status"
    major: ClassVar[int] = 1

    bot_id: str
    user_id: str
    status: BOT_STATUS
    previous_status: BOT_STATUS | None = None
    reason: str = ""
    account_id: str | None = Field(default=None, description="the bot's account (set when it stops in error)")
    bot_name: str | None = Field(default=None, description="the bot's name (set when it stops in error)")


class BotDecisionMade(Event):
    """One decision of a bot on a closed bar, on ``strategy.evt.bot_decision.v1.<bot_id>``."""

    domain: ClassVar[str] = "strategy"
    name: ClassVar[str] = "bot_decision"
    major: ClassVar[int] = 1

    bot_id: str
    user_id: str
    decision: BotDecision


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract(SERVICE, op, request, reply, description)


EVENTS: tuple[EventContract, ...] = (
    EventContract(BotStatusChanged, "STRATEGY", ("bot_id",), "A bot's new status."),
    EventContract(BotDecisionMade, "STRATEGY", ("bot_id",), "A bot's decision on a closed bar."),
)
REQUESTS: tuple[RequestContract, ...] = (
    _rq("bots_create", BotCreate, BotInfo, "Create a bot (stopped) on a pinned strategy version."),
    _rq("bots_get", BotRef, BotInfo, "One of the caller's bots."),
    _rq("bots_list", BotListRequest, BotList, "The caller's bots, newest first."),
    _rq("bots_start", BotRef, BotInfo, "Start a stopped, halted or errored bot."),
    _rq("bots_stop", BotRef, BotInfo, "Stop a bot (no more decisions)."),
    _rq("bots_pause", BotRef, BotInfo, "Pause a running bot."),
    _rq("bots_resume", BotRef, BotInfo, "Resume a paused bot."),
    _rq("bots_delete", BotRef, BotDeleted, "Delete a stopped bot and its log."),
    _rq("bots_decisions", BotDecisionsRequest, BotDecisionList, "A bot's decision log, newest first."),
)
