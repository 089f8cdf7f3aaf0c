"""Settings base for every service.

Settings come from the environment (``TL_<SERVICE>_<FIELD>``) and from mounted secret files in the
directory named by ``TL_SECRETS_DIR`` (one file per variable, named like the variable). They are
built once at start and passed down; nothing here is created at import time.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl, urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "example", "xxx", "todo", "secret123")


class Environment(StrEnum):
    """Where a process runs; only `development` and `test` accept placeholder secrets."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


def is_placeholder(value: str) -> bool:
    """True for values that were obviously never filled in (empty, `change-me`, ...)."""
    lowered = value.strip().lower()
    return not lowered or any(marker in lowered for marker in PLACEHOLDER_MARKERS)


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``model_config`` with their own env prefix."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: ClassVar[str] = "service"
    default_schema: ClassVar[str] = ""  # the service's package name unless DESIGN names another

    environment: Environment = Environment.PRODUCTION
    database_url: SecretStr = Field(description="postgresql+asyncpg://user:password@host:port/database")
    db_schema: str = Field(default="", description="Postgres schema this service owns")
    db_pool_size: int = Field(default=5, ge=1, le=100)
    nats_url: str = Field(default="nats://127.0.0.1:4222", description="comma-separated NATS server URLs")
    nats_prefix: str = Field(default="", description="namespace for subjects and streams (tests, tenants)")
    nats_user: str = Field(
        default="", description="NATS user (tradeloom.shared.nats_permissions); the service's name"
    )
    nats_password: SecretStr | None = Field(default=None, description="this service's NATS password")
    nats_tls_ca: str = Field(
        default="", description="CA file that signed the NATS servers' certificates (TLS on)"
    )
    nats_tls_cert: str = Field(
        default="", description="client certificate file, when the server asks for one"
    )
    nats_tls_key: str = Field(default="", description="the client certificate's key file")
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8081, ge=0, le=65535)
    log_level: str = "INFO"
    log_json: bool = True
    otlp_endpoint: str | None = None
    startup_timeout_s: float = Field(default=10.0, gt=0, le=600)

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: SecretStr) -> SecretStr:
        parts = urlsplit(value.get_secret_value())
        if parts.scheme not in ("postgresql+asyncpg", "postgresql", "postgres"):
            raise ValueError("must be a postgresql+asyncpg:// URL")
        if not parts.hostname:
            raise ValueError("must name a host")
        if not parts.path.strip("/"):
            raise ValueError("must name a database")
        mode = dict(parse_qsl(parts.query)).get("sslmode")
        if mode is not None and mode not in (
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ):
            raise ValueError("sslmode must be disable, allow, prefer, require, verify-ca or verify-full")
        return value

    @field_validator("nats_url")
    @classmethod
    def _check_nats_url(cls, value: str) -> str:
        for server in value.split(","):
            parts = urlsplit(server.strip())
            if parts.scheme not in ("nats", "tls", "ws", "wss") or not parts.hostname:
                raise ValueError(f"must be nats://host:port, got {server.strip()!r}")
            try:
                _ = parts.port
            except ValueError as error:
                raise ValueError(f"bad port in {server.strip()!r}") from error
        return value

    @field_validator("nats_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if value and not value.replace("_", "").isalnum():
            raise ValueError("must be letters, digits and underscores")
        return value.lower()

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError("must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        return value.upper()

    @model_validator(mode="after")
    def _defaults_and_placeholders(self) -> Self:
        if not self.db_schema:
            self.db_schema = self.default_schema or self.service_name.replace("-", "_")
        if not self.nats_user:
            self.nats_user = self.service_name
        if bool(self.nats_tls_cert) != bool(self.nats_tls_key):
            raise ValueError(
                "nats_tls_key: a client certificate needs its key (nats_tls_cert and nats_tls_key)"
            )
        if self.environment is Environment.PRODUCTION:
            for name, field_value in self:
                if isinstance(field_value, SecretStr) and is_placeholder(field_value.get_secret_value()):
                    raise ValueError(f"{name}: placeholder value refused outside development")
                if name == "database_url" and isinstance(field_value, SecretStr):
                    password = urlsplit(field_value.get_secret_value()).password or ""
                    if password and is_placeholder(password):
                        raise ValueError("database_url: placeholder password refused outside development")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the asyncpg driver, whatever scheme was configured."""
        raw = self.database_url.get_secret_value()
        scheme, rest = raw.split("://", 1)
        return f"postgresql+asyncpg://{rest}" if scheme != "postgresql+asyncpg" else raw

    @classmethod
    def env_prefix(cls) -> str:
        return str(cls.model_config.get("env_prefix", ""))

    @classmethod
    def load(cls, **overrides: Any) -> Self:
        """Build settings from the environment and the secrets directory (``TL_SECRETS_DIR``)."""
        secrets_dir = os.environ.get("TL_SECRETS_DIR")
        if secrets_dir and Path(secrets_dir).is_dir():
            return cls(_secrets_dir=secrets_dir, **overrides)
        return cls(**overrides)


class SettingsError(Exception):
    """A setting is missing or invalid; ``str()`` is one line naming the variable."""


def describe_settings_error(settings_cls: type[ServiceSettings], error: ValidationError) -> str:
    """Turn a pydantic error into one line naming the environment variable(s) at fault."""
    prefix = settings_cls.env_prefix()
    problems = []
    for item in error.errors():
        location = [str(part) for part in item["loc"] if part != "__root__"]
        message = str(item["msg"]).removeprefix("Value error, ")
        if location:
            variable = (prefix + location[0]).upper()
            problems.append(f"{variable}: {message}")
        elif ":" in message:
            field, _, rest = message.partition(":")
            problems.append(f"{(prefix + field.strip()).upper()}:{rest}")
        else:
            problems.append(message)
    return "invalid settings: " + "; ".join(problems)
