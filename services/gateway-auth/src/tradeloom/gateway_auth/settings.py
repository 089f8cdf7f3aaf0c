"""gateway-auth settings: environment variables prefixed ``TL_GATEWAY_AUTH_``."""

from typing import Annotated, ClassVar, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from tradeloom.gateway_auth.forwarded import parse_networks
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

    # --- tokens -----------------------------------------------------------------------------------
    jwt_secret: SecretStr = Field(description="HMAC key signing access tokens and cursors (>= 32 chars)")
    jwt_issuer: str = "tradeloom-gateway"
    jwt_audience: str = "tradeloom-api"
    access_ttl_s: int = Field(default=900, ge=1, le=3600, description="access token lifetime")
    refresh_ttl_s: int = Field(default=30 * 86400, ge=1, description="refresh token lifetime")
    user_cache_s: float = Field(
        default=1.0, ge=0, le=5, description="how long a user's status/role is cached per instance"
    )

    # --- passwords (argon2id; below the OWASP floor is refused) -----------------------------------
    argon2_memory_kib: int = Field(default=19456, ge=19456)
    argon2_time_cost: int = Field(default=2, ge=2)

    # --- public API -------------------------------------------------------------------------------
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated allowed origins"
    )
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, description="larger request bodies get 413")
    dataset_upload_max_bytes: int = Field(
        default=50 * 1024 * 1024,  # market-data's DATASET_MAX_BYTES default, which it also enforces
        ge=1024,
        description="body limit of POST /v1/datasets (streamed CSV) instead of max_body_bytes",
    )
    option_batch_max_bytes: int = Field(
        default=4 * 1024 * 1024,  # 10,000 items (MAX_BATCH) are ~1.5 MB; under NATS's 8 MiB max_payload
        ge=1024,
        description="body limit of the option batch routes (POST /v1/analytics/options/greeks and "
        "/implied-volatility) instead of max_body_bytes",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="comma-separated CIDRs of reverse proxies whose forwarded header names the client",
    )
    forwarded_header: Literal["x-forwarded-for", "forwarded"] = Field(
        default="x-forwarded-for", description="the header those proxies set (read from the right)"
    )
    dashboard_dir: str = Field(
        default="",
        description="the built web dashboard (dashboard/dist: index.html + assets/) served at /; empty: none",
    )
    proxy_timeout_s: float = Field(default=2.0, gt=0, le=30, description="deadline of a forwarded call")
    dataset_commit_timeout_s: float = Field(
        default=300,
        gt=0,
        le=3600,
        description="deadline of an upload's commit (market-data validates and stores the whole file): "
        "the request waits for the commit it started instead of answering 504 while it still runs",
    )
    idempotency_ttl_s: int = Field(default=86400, ge=60)

    # --- rate limits: capacity (burst) and refill per second --------------------------------------
    rate_ip_capacity: float = Field(default=300, gt=0)
    rate_ip_per_s: float = Field(default=100, gt=0)
    rate_user_capacity: float = Field(default=300, gt=0)
    rate_user_per_s: float = Field(default=100, gt=0)
    rate_login_capacity: float = Field(default=10, gt=0)
    rate_login_per_s: float = Field(default=0.2, gt=0)
    rate_orders_capacity: float = Field(default=20, gt=0)
    rate_orders_per_s: float = Field(default=5, gt=0)
    rate_code_capacity: float = Field(default=5, gt=0)
    rate_code_per_s: float = Field(default=0.1, gt=0)
    rate_backtests_capacity: float = Field(default=5, gt=0)
    rate_backtests_per_s: float = Field(default=0.1, gt=0)
    rate_lease_share: float = Field(
        default=0.1, ge=0, le=0.5, description="share of a bucket's burst one replica leases at once"
    )
    rate_lease_s: float = Field(default=1.0, gt=0, le=5, description="how long a replica keeps a lease")
    # --- streams to the UI (/v1/ws, SSE) ----------------------------------------------------------
    ws_venue: str = Field(default="sim", pattern=r"^[A-Za-z0-9_\-]+$", description="venue of market channels")
    ws_heartbeat_s: float = Field(default=15, gt=0, le=120, description="heartbeat and auth re-check period")
    ws_auth_timeout_s: float = Field(default=5, gt=0, le=60, description="time to send the auth message")
    ws_max_buffer: int = Field(default=1000, ge=1, description="queued messages before a slow client is cut")
    ws_max_subscriptions: int = Field(default=50, ge=1, le=1000)
    lockout_after: int = Field(
        default=5, ge=1, description="failed logins for one account from one client before that pair locks"
    )
    lockout_account_after: int = Field(
        default=20, ge=1, description="failed logins for one account from anywhere before new clients lock"
    )
    lockout_known_client_days: int = Field(
        default=30, ge=0, description="a client that logged in to the account this recently is not locked"
    )
    lockout_base_s: float = Field(default=30, gt=0, description="first lock; doubles each further failure")
    lockout_max_s: float = Field(default=900, gt=0)

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters")
        return value

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value
