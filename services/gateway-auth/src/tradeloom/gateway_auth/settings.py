"""gateway-auth settings: environment variables prefixed ``TL_GATEWAY_AUTH_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class GatewayAuthSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_GATEWAY_AUTH_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "gateway-auth"
    default_schema: ClassVar[str] = "gateway"

    health_port: int = 9101
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535, description="the public REST API")
    status_timeout_s: float = Field(default=0.8, gt=0, le=10, description="deadline of each service ping")
