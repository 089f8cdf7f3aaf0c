"""backtest-engine settings: environment variables prefixed ``TL_BACKTEST_ENGINE_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class BacktestEngineSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_BACKTEST_ENGINE_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "backtest-engine"

    health_port: int = 9105
