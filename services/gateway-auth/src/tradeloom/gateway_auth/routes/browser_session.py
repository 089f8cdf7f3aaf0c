"""``/v1/auth/browser/*``: the dashboard's session, with the refresh token in an HttpOnly cookie.

A browser page must not hold a long-lived credential where script can read it (an injected script,
or anything that can read ``localStorage``, would carry it off). So a browser logs in here: the
answer's body has only the 15-minute access token, which the page keeps in memory, and the refresh
token travels in the cookie ``tl_refresh``: ``HttpOnly`` (no script reads it), ``SameSite=Strict``
(no other site's page can make the browser send it: the CSRF defence), ``Secure`` when the request
came over https, and ``Path=/v1/auth/browser`` (sent to these three routes only, never with API
calls). A reload calls ``refresh`` to get a new access token from the cookie. The JSON-body
``/v1/auth/login`` and ``/v1/auth/refresh`` are unchanged for API clients.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Cookie, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth import accounts
from tradeloom.gateway_auth.auth import CallContext, gateway_of, limit_ip, require
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.auth import login_bucket, origin
from tradeloom.gateway_auth.schemas import LoginIn, TokenPair
from tradeloom.shared.errors import Unauthorized

PREFIX = "/v1/auth/browser"
COOKIE = "tl_refresh"
router = APIRouter(prefix=PREFIX, tags=["auth"])
SESSION = require(Scope.READ, session_only=True)


class BrowserSession(BaseModel):
    """What the page keeps in memory: the access token only (the refresh token is the cookie)."""

    model_config = ConfigDict(extra="forbid")
    access_token: str = Field(description="JWT, send as 'Authorization: Bearer <token>'")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int = Field(examples=[900], description="seconds the access token lives")


def _answer(request: Request, response: Response, pair: TokenPair) -> BrowserSession:
    response.set_cookie(
        COOKIE,
        pair.refresh_token,
        max_age=pair.refresh_expires_in,
        path=PREFIX,
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )
    response.headers["cache-control"] = "no-store"
    return BrowserSession(access_token=pair.access_token, expires_in=pair.expires_in)


@router.post(
    "/login",
    response_model=BrowserSession,
    summary="Log in from a browser (refresh token in an HttpOnly cookie)",
    description="As `POST /v1/auth/login` (same rate limits and lockout), but the refresh token is set as "
    "the cookie `tl_refresh` (HttpOnly, SameSite=Strict, Path=/v1/auth/browser, Secure over https) "
    "instead of being returned.",
    responses=problem_responses(400, 401, 413, 422, 429),
    dependencies=[Depends(login_bucket)],
)
async def browser_login(body: LoginIn, request: Request, response: Response) -> BrowserSession:
    pair = await accounts.login(gateway_of(request), body.email, body.password, origin(request))
    return _answer(request, response, pair)


@router.post(
    "/refresh",
    response_model=BrowserSession,
    summary="A new access token from the refresh cookie",
    description="Spends the `tl_refresh` cookie and sets its successor (reusing a spent one revokes the "
    "session). No cookie → 401 `invalid_refresh_token`.",
    responses=problem_responses(401, 429),
    dependencies=[Depends(limit_ip)],
)
async def browser_refresh(
    request: Request, response: Response, tl_refresh: Annotated[str | None, Cookie()] = None
) -> BrowserSession:
    if not tl_refresh or len(tl_refresh) > 256:
        raise Unauthorized("no session cookie; log in", code="invalid_refresh_token")
    pair = await accounts.refresh(gateway_of(request), tl_refresh, origin(request))
    return _answer(request, response, pair)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="End this browser session and clear its cookie",
    responses=problem_responses(401, 403, 429),
)
async def browser_logout(request: Request, ctx: Annotated[CallContext, Depends(SESSION)]) -> Response:
    if ctx.principal.session_id is None:
        raise Unauthorized("no session")
    await accounts.logout(gateway_of(request), ctx.user_id, ctx.principal.session_id, origin(request))
    response = Response(status_code=204)
    response.delete_cookie(
        COOKIE, path=PREFIX, secure=request.url.scheme == "https", httponly=True, samesite="strict"
    )
    return response
