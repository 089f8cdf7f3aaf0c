"""risk-monitor settings: environment variables prefixed ``TL_RISK_MONITOR_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class RiskMonitorSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_RISK_MONITOR_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "risk-monitor"

    health_port: int = 9104
    cache_refresh_s: float = Field(default=1.0, gt=0, le=60)
    mark_interval_s: float = Field(default=1.0, gt=0, le=60)
    pending_order_ttl_s: float = Field(default=10.0, gt=0, le=600)
    order_router_timeout_s: float = Field(default=2.0, gt=0, le=30)
    eod_interval_s: float = Field(default=60.0, gt=0, le=3600)
