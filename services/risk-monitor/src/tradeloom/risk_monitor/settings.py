"""risk-monitor settings: environment variables prefixed ``TL_RISK_MONITOR_``."""

from decimal import Decimal
from typing import Annotated, ClassVar

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
    market_data_timeout_s: float = Field(default=0.5, gt=0, le=30)  # option quotes (option entries)
    # option quotes kept for the Greeks check and alerts (``option_book.py``): refreshed every
    # ``option_quotes_refresh_s``; older than ``option_quotes_max_age_s`` they are stale (entries refused)
    option_quotes_refresh_s: float = Field(default=1.0, gt=0, le=60)
    option_quotes_max_age_s: float = Field(default=5.0, gt=0, le=600)
    eod_interval_s: float = Field(default=60.0, gt=0, le=3600)
    # perpetuals (``BTC/USDT:USDT``): base units per contract (market-data's ``multiplier``; 1 when
    # absent) and maintenance-margin rates (0.005 when absent), JSON objects by symbol
    perp_contract_sizes: dict[str, Annotated[Decimal, Field(gt=0)]] = Field(default_factory=dict)
    perp_maintenance_margin_rates: dict[str, Annotated[Decimal, Field(gt=0, lt=1)]] = Field(
        default_factory=dict
    )
