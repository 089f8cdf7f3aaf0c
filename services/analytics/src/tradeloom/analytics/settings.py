"""analytics settings: environment variables prefixed ``TL_ANALYTICS_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_ANALYTICS_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "analytics"

    health_port: int = 9106
    roll_interval_s: float = Field(
        default=5.0, gt=0, description="how often moved prices and a new UTC day rewrite daily equity"
    )
    orders_gather_s: float = Field(
        default=0.05,
        ge=0,
        le=5,
        description="the orders consumer waits this long after an event for more to join its batch",
    )
    trades_gather_s: float = Field(
        default=0.2,
        ge=0,
        le=5,
        description="the trades consumer waits this long after a trade message for more",
    )
    remote_timeout_s: float = Field(default=2.0, gt=0, description="deadline of requests to other services")
    option_mark_interval_s: float = Field(
        default=1.0, gt=0, description="at most one revaluation of a saved option strategy per this interval"
    )
    chain_expiries_cache_s: float = Field(
        default=5.0,
        ge=0,
        description="an option chain's expiries (market-data option_expiries) kept this long",
    )
