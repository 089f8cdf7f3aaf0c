"""Configuration updates of live bots (``svc.strategy-runner.bots_update``).

A change is stored at once and audited; a running or paused bot keeps trading with its current
configuration until it is stopped and started again (``BotInfo.pending_config`` shows the one its
next start runs); that includes its ``symbols``. Its ``risk_limits`` are put at risk-monitor and
apply at once, whatever its status (risk-monitor checks them on each order); ``remove_risk_limits``
removes them there at once (``risk_limits`` null or left out keeps them, an empty object is a 422). The account is not
configuration: another account is a new bot (an unknown field, ``symbol`` too, is a 422 naming it).

Error codes: ``validation_error`` 422 naming the field (an unknown strategy version, sizing the
pinned graph does not allow, a symbol not listed: ``symbols.<index>``, limits risk-monitor refuses:
``risk_limits.<field>``, ``remove_risk_limits`` with ``risk_limits``, an unknown field), ``not_found`` 404 (unknown or another user's bot),
``unavailable`` 503 / ``timeout`` 504 (risk-monitor not answering a limits change: nothing changed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tradeloom.shared.contracts.bot_risk import REMOVE_RISK_LIMITS, BotRiskLimits, check_remove_risk_limits
from tradeloom.shared.contracts.bots import (
    ID,
    MAX_BOT_SYMBOLS,
    SERVICE,
    TIMEFRAME,
    BotInfo,
    BotSizing,
    BotSymbol,
    unique_symbols,
)
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import Positive


class BotConfigChange(BaseModel):
    """What to change; a field left out stays as it is (the body of ``PATCH /v1/bots/{bot_id}``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    name: str | None = Field(
        default=None, min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", description="applies at once"
    )
    strategy_version: int | None = Field(
        default=None, ge=1, le=1_000_000, description="another version of the bot's strategy"
    )
    timeframe: TIMEFRAME | None = None
    sizing: BotSizing | None = None
    max_position: Positive | None = None
    symbols: list[BotSymbol] | None = Field(
        default=None, min_length=1, max_length=MAX_BOT_SYMBOLS, examples=[["BTC/USDT", "ETH/USDT"]],
        description="the whole new list (1-20, unique, listed on the bot's venue), the first first; "
        "a running bot trades it from its next start",
    )  # fmt: skip
    risk_limits: BotRiskLimits | None = Field(
        default=None,
        description="the whole new set of the bot's own limits, put at risk-monitor: applies at once "
        "(a running bot's next order is checked against it); refused there: 422 naming "
        "risk_limits.<field>, nothing changed",
    )
    # the example of the whole change sets risk_limits: this one must not remove them too
    remove_risk_limits: bool = Field(default=False, examples=[False], description=REMOVE_RISK_LIMITS)

    _remove = field_validator("remove_risk_limits")(check_remove_risk_limits)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str] | None) -> list[str] | None:
        return unique_symbols(value)


class BotUpdate(BotConfigChange):
    bot_id: str = ID


class BotConfigChangesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    bot_id: str = ID
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class BotFieldChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old: Any = None
    new: Any = None


class BotConfigChangeEntry(BaseModel):
    """One update of the bot's configuration (a new version by its number)."""

    model_config = ConfigDict(extra="forbid")

    change_id: int
    changes: dict[str, BotFieldChange] = Field(description="field → its old and new value")
    effective: Literal["now", "next_start", "started"] = Field(
        description="now; next_start: stored while it ran (pending); started: a pending one applied by a start"
    )
    created_at: datetime


class BotConfigChangeList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[BotConfigChangeEntry] = Field(description="newest first")
    next_cursor: str | None = None


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        SERVICE, "bots_update", BotUpdate, BotInfo,
        "Change a bot's configuration: stored at once, run from its next start.",
    ),
    RequestContract(
        SERVICE, "bots_config_changes", BotConfigChangesRequest, BotConfigChangeList,
        "A bot's configuration changes, newest first.",
    ),
)  # fmt: skip
