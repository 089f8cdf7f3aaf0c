"""order-router settings: environment variables prefixed ``TL_ORDER_ROUTER_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class OrderRouterSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_ORDER_ROUTER_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "order-router"

    health_port: int = 9103
