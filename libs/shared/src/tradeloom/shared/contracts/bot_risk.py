"""A bot's own risk limits (``risk_limits`` of ``BotCreate``), registered with risk-monitor.

strategy-runner puts them with ``svc.risk-monitor.limits_put`` (``bot_id`` = the bot, on its
account, as its owner) when the bot is created and deletes them with the bot. risk-monitor
measures the bot's orders (client id ``bot-<hex>-…``) against them on the bot's own positions,
orders and fills. These are the fields of risk-monitor's ``LimitsPut`` a bot's limits can hold:
the equity ones (``starting_balance``, ``max_leverage``, ``max_drawdown``), ``max_daily_loss_hard``
and the option Greeks are the account's, so they are not fields here (an unknown field is a 422).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from tradeloom.shared.contracts.wire import Positive

HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
LIMIT_FIELDS = (
    "max_order_notional",
    "max_position_notional",
    "max_open_orders",
    "max_daily_loss",
    "max_gross_exposure",
    "max_orders_per_minute",
)


class BotRiskLimits(BaseModel):
    """The whole set of one bot's limits (a field left out is no limit; at least one is set)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_order_notional: Positive | None = Field(default=None, examples=["500"])
    max_position_notional: Positive | None = Field(
        default=None, description="the bot's position in its symbol × the last price"
    )
    max_open_orders: int | None = Field(default=None, ge=1, le=100_000)
    max_daily_loss: Positive | None = Field(
        default=None, description="the bot's realised loss minus fees in the trading day"
    )
    max_gross_exposure: Positive | None = None
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    alert_threshold_pct: Positive = Field(default=Decimal(80), le=100, description="alert from this % of a limit")
    day_boundary_tz: str = Field(default="UTC", min_length=1, max_length=64, examples=["America/Chicago"])
    day_boundary_time: str = Field(
        default="00:00", pattern=HH_MM, examples=["17:00"], description="local time the trading day starts"
    )

    @model_validator(mode="after")
    def _some_limit(self) -> BotRiskLimits:
        if all(getattr(self, name) is None for name in LIMIT_FIELDS):
            raise ValueError(f"set at least one limit ({', '.join(LIMIT_FIELDS)})")
        return self


REMOVE_RISK_LIMITS = (
    "true: the bot's own limits are removed (deleted at risk-monitor, at once, whatever the bot's "
    "status; none set: nothing changes). ``risk_limits`` left out or null keeps them (a PATCH cannot "
    "tell a null from a field left out once forwarded) and an empty object is a 422 (no limit in it); "
    "with ``risk_limits`` set too: 422 naming remove_risk_limits"
)


def check_remove_risk_limits(value: bool, info: ValidationInfo) -> bool:
    """``remove_risk_limits`` of an update: not with a new ``risk_limits`` set in the same request."""
    if value and info.data.get("risk_limits") is not None:
        raise ValueError("remove the limits or set new ones (risk_limits), not both")
    return value
