"""analytics settings: environment variables prefixed ``TL_ANALYTICS_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_ANALYTICS_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "analytics"

    health_port: int = 9106
