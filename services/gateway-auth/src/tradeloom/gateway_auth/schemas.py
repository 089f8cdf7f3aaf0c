"""Request and response models of the gateway's own routes (auth, users, keys, audit, admin)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from zoneinfo import available_timezones

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from tradeloom.gateway_auth.domain.accounts import normalize_email
from tradeloom.shared.contracts.sandbox import LimitsReply

T = TypeVar("T")


class _In(BaseModel):
    """Request bodies: unknown fields are refused (no mass assignment)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        """Postgres text cannot hold NUL; refuse it at the edge instead of failing in the store."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


Email = Annotated[
    str, Field(min_length=3, max_length=254, examples=["trader@example.com"]), AfterValidator(normalize_email)
]
Password = Annotated[str, Field(min_length=1, max_length=1024, examples=["correct horse battery staple"])]
DisplayName = Annotated[str, Field(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$", examples=["Ada"])]


class Page(_Out, Generic[T]):
    """One page of a list, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[T]
    next_cursor: str | None = Field(default=None, description="null on the last page")


# --- auth -----------------------------------------------------------------------------------------
class RegisterIn(_In):
    email: Email
    password: Password
    display_name: DisplayName = ""


class LoginIn(_In):
    email: Annotated[str, Field(min_length=1, max_length=254, examples=["trader@example.com"])]
    password: Password


class TokenForm(_In):
    """The OAuth2 password grant (RFC 6749 §4.3) as a form; other form fields (client_id…) are ignored."""

    model_config = ConfigDict(extra="ignore")
    grant_type: Literal["password"] = "password"
    username: Annotated[
        str, Field(min_length=1, max_length=254, description="the account's email", examples=["a@b.co"])
    ]
    password: Password
    scope: str = Field(default="", max_length=200, description="ignored")


class RefreshIn(_In):
    refresh_token: str = Field(min_length=1, max_length=256)


class ChangePasswordIn(_In):
    current_password: Password
    new_password: Password


class TokenPair(_Out):
    access_token: str = Field(description="JWT, send as 'Authorization: Bearer <token>'")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(examples=[900], description="seconds the access token lives")
    refresh_token: str = Field(description="opaque; single use: each refresh returns a new one")
    refresh_expires_in: int = Field(examples=[2592000])


# --- users ----------------------------------------------------------------------------------------
class UserOut(_Out):
    id: str = Field(examples=["01890a5d-ac96-774b-bcce-b302099a8057"])
    email: str = Field(examples=["trader@example.com"])
    display_name: str = Field(examples=["Ada"])
    role: Literal["user", "admin"]
    status: Literal["active", "disabled"]
    created_at: datetime


class RegisteredOut(UserOut):
    """The new user, and a session already started (no login needed right after registering)."""

    tokens: TokenPair


class UserPatch(_In):
    display_name: DisplayName | None = None


class NotificationsPatch(_In):
    email: bool | None = None
    push: bool | None = None
    fills: bool | None = None
    alerts: bool | None = None
    digest: Literal["off", "daily", "weekly"] | None = None


class UiPatch(_In):
    theme: Literal["system", "light", "dark"] | None = None
    language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] | None = None
    density: Literal["comfortable", "compact"] | None = None


class PreferencesPatch(_In):
    """Only the fields sent change; ``null`` resets a field or group to its default."""

    mode: Literal["beginner", "expert"] | None = None
    timezone: Annotated[str, Field(max_length=64, examples=["Europe/Paris"])] | None = None
    default_account_id: Annotated[str, Field(max_length=64)] | None = None
    onboarding_completed: bool | None = None
    notifications: NotificationsPatch | None = None
    ui: UiPatch | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in _zones():
            raise ValueError("is not an IANA time zone name")
        return value


def _zones() -> set[str]:
    global _ZONES  # noqa: PLW0603 - computed once, lazily (reads the tz database)
    if _ZONES is None:
        _ZONES = available_timezones() | {"UTC"}
    return _ZONES


_ZONES: set[str] | None = None


class Preferences(_Out):
    mode: Literal["beginner", "expert"]
    timezone: str
    default_account_id: str | None
    onboarding_completed: bool
    notifications: dict[str, Any]
    ui: dict[str, Any]


class SessionOut(_Out):
    id: str
    created_at: datetime
    last_used_at: datetime
    ip: str | None
    user_agent: str | None
    current: bool = Field(description="the session of the token making this request")


# --- API keys -------------------------------------------------------------------------------------
KeyName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$", examples=["bot"])
]
KeyScopes = Annotated[list[Literal["read", "trade"]], Field(min_length=1, max_length=2, examples=[["read"]])]


def _future_utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("must include a time zone (use Z for UTC)")
    if value <= datetime.now(UTC):
        raise ValueError("must be in the future")
    return value.astimezone(UTC)


class ApiKeyIn(_In):
    name: KeyName
    scopes: KeyScopes
    expires_at: Annotated[datetime | None, AfterValidator(_future_utc)] = Field(
        default=None, description="UTC; omitted: never expires"
    )


class ApiKeyPatch(_In):
    """Only the fields sent change; the key's secret stays the same."""

    name: KeyName | None = None
    scopes: KeyScopes | None = Field(default=None, description="at most the caller's own scopes")
    expires_at: Annotated[datetime | None, AfterValidator(_future_utc)] = Field(
        default=None, description="UTC; `null` removes the expiry"
    )

    @field_validator("name", "scopes")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; omit it to keep the current value")
        return value


class ApiKeyOut(_Out):
    id: str
    name: str
    masked_key: str = Field(examples=["tlk_ab12cd34ef56_…"])
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the whole key; shown only in this response, store it now")


# --- sandbox --------------------------------------------------------------------------------------
class RateLimitOut(_Out):
    """A per-user token bucket: ``burst`` requests at once, refilled at ``per_minute``."""

    bucket: str = Field(examples=["code"])
    burst: int = Field(examples=[5])
    per_minute: float = Field(examples=[6.0])


class SandboxLimits(LimitsReply):
    """The sandbox's limits and quotas, with the gateway's rate limit of code execution."""

    rate_limit: RateLimitOut


# --- audit ----------------------------------------------------------------------------------------
class AuditOut(_Out):
    id: int
    at: datetime
    user_id: str | None
    actor_id: str | None
    action: str = Field(examples=["login"])
    outcome: str = Field(examples=["success"])
    ip: str | None
    request_id: str | None
    details: dict[str, Any]
