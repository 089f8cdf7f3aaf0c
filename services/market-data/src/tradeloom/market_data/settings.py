"""market-data settings: environment variables prefixed ``TL_MARKET_DATA_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class MarketDataSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_MARKET_DATA_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "market-data"

    health_port: int = 9102
