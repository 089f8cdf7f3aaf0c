"""strategy-runner settings: environment variables prefixed ``TL_STRATEGY_RUNNER_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class StrategyRunnerSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_STRATEGY_RUNNER_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "strategy-runner"

    health_port: int = 9108
