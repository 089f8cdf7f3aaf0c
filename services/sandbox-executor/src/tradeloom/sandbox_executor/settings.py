"""sandbox-executor settings: environment variables prefixed ``TL_SANDBOX_EXECUTOR_``."""

from typing import ClassVar

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tradeloom.sandbox_executor.sandbox.runner import SandboxConfig
from tradeloom.shared.settings import ServiceSettings


class SandboxExecutorSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_SANDBOX_EXECUTOR_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "sandbox-executor"

    health_port: int = 9107
    bwrap_path: str = "/usr/bin/bwrap"
    setpriv_path: str = "/usr/bin/setpriv"
    uid_base: int = Field(
        default=200_000, ge=1000, le=2**31 - 1024, description="first sandbox uid (no passwd entry)"
    )
    slots: int = Field(
        default=2, ge=1, le=64, description="concurrent executions per instance (one uid each)"
    )
    tmpfs_mb: int = Field(default=16, ge=1, le=1024)
    max_processes: int = Field(default=32, ge=4, le=4096)
    stdout_max_bytes: int = Field(default=65_536, ge=1024, le=262_144)
    stderr_max_bytes: int = Field(default=65_536, ge=1024, le=262_144)
    result_max_bytes: int = Field(default=262_144, ge=1024, le=524_288)
    require_cgroups: bool = False
    pool_size: int = Field(
        default=2, ge=0, le=64, description="ready single-use sandbox workers (at most slots; 0 = off)"
    )
    quota_concurrent: int = Field(default=2, ge=1, le=100, description="running executions per user")
    quota_cpu_seconds_per_day: float = Field(default=3600, gt=0)
    rate_per_minute: int = Field(default=30, ge=1, description="executions started per user per minute")

    def sandbox_config(self) -> SandboxConfig:
        return SandboxConfig(
            bwrap=self.bwrap_path,
            setpriv=self.setpriv_path,
            uid_base=self.uid_base,
            slots=self.slots,
            tmpfs_mb=self.tmpfs_mb,
            max_processes=self.max_processes,
            stdout_max_bytes=self.stdout_max_bytes,
            stderr_max_bytes=self.stderr_max_bytes,
            result_max_bytes=self.result_max_bytes,
            require_cgroups=self.require_cgroups,
            pool_size=self.pool_size,
        )
