"""Who is calling: bearer JWT or API key, re-checked against the user's current state per request.

``require(scope)`` is the dependency every protected route uses: authenticate, rate-limit by IP
and by user (buckets shared by all replicas), then enforce the scope. Declared through
``authenticate`` and the three security schemes (what the OpenAPI documents), it is solved at run time
as one dependency (``solved_at_once``, installed by ``runtime_dependencies``): FastAPI's dependency
machinery cost ~60 us per request for those five, more than the authentication itself.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer

from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.scopes import Principal, Role, Scope, session_scopes
from tradeloom.gateway_auth.domain.tokens import AccessClaims, InvalidToken, parse_api_key, secret_matches
from tradeloom.gateway_auth.errors import Forbidden, RateLimited
from tradeloom.gateway_auth.gateway import Gateway
from tradeloom.gateway_auth.store.api_keys import ApiKeyAuth
from tradeloom.gateway_auth.store.users import AuthState
from tradeloom.shared.errors import Unauthorized

bearer_scheme = HTTPBearer(auto_error=False, description="an access token (JWT) or an API key")
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")
# the same Authorization header, described as OAuth2 so the API docs' Authorize button can log in
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token", auto_error=False, description="log in with email and password"
)
KEY_TOUCH_EVERY_S = 60.0
SOLVED_AT_ONCE = "solved_at_once"  # a dependency's equivalent taking only the request (see require)


def gateway_of(request: Request) -> Gateway:
    gateway: Gateway = request.app.state.gateway
    return gateway


def gateway_of_app(app: Any) -> Gateway:
    gateway: Gateway = app.state.gateway
    return gateway


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class CallContext:
    """The authenticated caller plus what handlers need of the request."""

    principal: Principal
    ip: str
    request: Request
    budget: str | None = None  # a per-user bucket charged when the request is forwarded (budgets.py)
    charged: set[str] = field(default_factory=set, compare=False)

    @property
    def user_id(self) -> str:
        return self.principal.user_id


def _verified(gateway: Gateway, token: str) -> AccessClaims:
    """Verify a JWT once per instance and remember it (the signature check is the costly part);
    expiry and not-before are re-checked on every use."""
    claims = gateway.verified_tokens.get(token)
    now = time.time()
    if claims is None:
        try:
            claims = gateway.tokens.verify(token)
        except InvalidToken as error:
            raise Unauthorized(str(error)) from error
        gateway.verified_tokens.put(token, claims)
    elif claims.expires_at <= now:
        raise Unauthorized("the access token has expired")
    return claims


async def _session_principal(gateway: Gateway, token: str) -> Principal:
    claims = _verified(gateway, token)
    state = await gateway.auth_cache.get_or_load(
        (claims.user_id, claims.session_id),
        lambda: gateway.users.auth_state(claims.user_id, claims.session_id),
    )
    if not isinstance(state, AuthState):
        raise Unauthorized("the account no longer exists")
    if state.status != "active":
        raise Unauthorized("the account is disabled")
    if state.session_revoked:
        raise Unauthorized("the session has ended; log in again")
    if state.tokens_valid_after is not None and claims.issued_at < int(state.tokens_valid_after.timestamp()):
        raise Unauthorized("the access token was revoked; log in again")
    role = Role(state.role)
    return Principal(claims.user_id, role, session_scopes(role), "session", session_id=claims.session_id)


async def _api_key_principal(gateway: Gateway, secret: str) -> Principal:
    key_id = parse_api_key(secret)
    found = gateway.auth_cache.get(("api_key", key_id or ""))
    if not isinstance(found, ApiKeyAuth):
        found = await gateway.api_keys.for_auth(key_id) if key_id else None
        if found is not None:
            gateway.auth_cache.put(("api_key", key_id or ""), found)
    if found is None or not secret_matches(secret, found.secret_hash):
        raise Unauthorized("the API key is invalid")
    if not found.usable:
        raise Unauthorized("the API key is revoked or expired")
    if found.user_status != "active":
        raise Unauthorized("the account is disabled")
    now = time.monotonic()
    if now - gateway.key_last_used.get(found.id, 0.0) > KEY_TOUCH_EVERY_S:
        gateway.key_last_used[found.id] = now
        await gateway.api_keys.touch(found.id)
    scopes = frozenset(Scope(s) for s in found.scopes if s in (Scope.READ, Scope.TRADE))
    return Principal(found.user_id, Role(found.role), scopes, "api_key", api_key_id=found.id)


async def authenticate(
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    api_key: Annotated[str | None, Depends(api_key_scheme)],
    _oauth2: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    gateway = gateway_of(request)
    if bearer is not None and bearer.credentials:
        credential = bearer.credentials
    elif api_key:
        credential = api_key
    else:
        raise Unauthorized("authentication required: send 'Authorization: Bearer <token or API key>'")
    return await principal_for(gateway, credential)


async def authenticate_request(request: Request) -> Principal:
    """``authenticate`` with the credentials read by the same security schemes, called directly."""
    return await authenticate(request, await bearer_scheme(request), await api_key_scheme(request), None)


async def principal_for(gateway: Gateway, credential: str) -> Principal:
    """The caller a bearer credential (access JWT or API key) names, checked against current state."""
    if parse_api_key(credential) is not None:
        return await _api_key_principal(gateway, credential)
    return await _session_principal(gateway, credential)


def token_expires_at(gateway: Gateway, credential: str) -> float | None:
    """Epoch seconds an access token stops working (None for API keys: checked periodically)."""
    if parse_api_key(credential) is not None:
        return None
    return float(_verified(gateway, credential).expires_at)


async def take_tokens(gateway: Gateway, wanted: list[tuple[str, str]], what: str) -> None:
    denied = await gateway.limiter.take([(gateway.buckets[name], subject) for name, subject in wanted])
    if denied is not None:
        raise RateLimited(f"too many {what}; retry in {denied.retry_after_s}s", denied.retry_after_s)


async def limit_ip(request: Request) -> str:
    """Dependency of public routes: the per-IP bucket only."""
    ip = client_ip(request)
    await take_tokens(gateway_of(request), [(ratelimit.IP, ip)], "requests")
    return ip


def require(
    scope: Scope, *, session_only: bool = False, bucket: str | None = None
) -> Callable[..., Awaitable[CallContext]]:
    """A dependency: an authenticated caller holding ``scope``; ``session_only`` refuses API keys;
    ``bucket`` (e.g. ``code``, ``orders``) is the per-user budget of the route's costly work: not
    taken here (this runs before FastAPI validates the body) but when ``proxy.forward`` sends the
    request on, i.e. only for a valid request (``budgets.py``)."""

    async def dependency(
        request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> CallContext:
        ip = client_ip(request)
        await take_tokens(
            gateway_of(request), [(ratelimit.IP, ip), (ratelimit.USER, principal.user_id)], "requests"
        )
        if session_only and principal.via != "session":
            raise Forbidden("this route needs a logged-in session; API keys cannot use it")
        if principal.missing(scope):
            raise Forbidden(f"this route needs the {scope.value!r} scope", details={"scope": scope.value})
        return CallContext(principal, ip, request, budget=bucket)

    async def solved_at_once(request: Request) -> CallContext:
        return await dependency(request, await authenticate_request(request))

    setattr(dependency, SOLVED_AT_ONCE, solved_at_once)
    return dependency
