"""sandbox-executor settings: environment variables prefixed ``TL_SANDBOX_EXECUTOR_``."""

from typing import ClassVar

from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import ServiceSettings


class SandboxExecutorSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_SANDBOX_EXECUTOR_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "sandbox-executor"

    health_port: int = 9107
