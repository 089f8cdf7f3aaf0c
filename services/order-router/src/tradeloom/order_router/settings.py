"""order-router settings: environment variables prefixed ``TL_ORDER_ROUTER_``."""

from decimal import Decimal
from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class OrderRouterSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_ORDER_ROUTER_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "order-router"

    health_port: int = 9103
    risk_check_timeout_s: float = Field(
        default=0.05, gt=0, le=5, description="deadline of the pre-trade check"
    )
    market_buy_buffer: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        le=1,
        description="extra quote a market-priced buy locks over the last price",
    )
    instruments_ttl_s: float = Field(
        default=60.0, gt=0, description="how long market-data's registry is cached"
    )
    market_data_timeout_s: float = Field(default=2.0, gt=0)
    pending_new_timeout_s: float = Field(
        default=30.0, gt=0, description="a submission interrupted before acceptance is rejected after this"
    )
    housekeeping_interval_s: float = Field(
        default=1.0, gt=0, description="GTD expiry and stale pending sweep"
    )
