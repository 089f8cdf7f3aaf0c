"""``/v1/auth/*``: register, log in, refresh, log out (this session or everywhere), change password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from tradeloom.gateway_auth import accounts
from tradeloom.gateway_auth.auth import CallContext, client_ip, gateway_of, limit_ip, require, take_tokens
from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.views import user_out
from tradeloom.gateway_auth.schemas import (
    ChangePasswordIn,
    LoginIn,
    RefreshIn,
    RegisterIn,
    TokenPair,
    UserOut,
)
from tradeloom.shared.errors import Unauthorized

router = APIRouter(prefix="/v1/auth", tags=["auth"])
SESSION = require(Scope.READ, session_only=True)


def origin(request: Request) -> accounts.Origin:
    return accounts.Origin(client_ip(request), request.headers.get("user-agent", ""))


async def login_bucket(request: Request) -> None:
    """Login and registration cost an argon2 hash each: a stricter per-IP bucket."""
    ip = client_ip(request)
    await take_tokens(gateway_of(request), [(ratelimit.IP, ip), (ratelimit.LOGIN, ip)], "login attempts")


@router.post(
    "/register",
    status_code=201,
    response_model=UserOut,
    summary="Create an account",
    description="Weak, common or breached-looking passwords are refused with the reason "
    "(code `weak_password`).",
    responses=problem_responses(400, 409, 413, 422, 429),
    dependencies=[Depends(login_bucket)],
)
async def register(body: RegisterIn, request: Request) -> UserOut:
    user = await accounts.register(
        gateway_of(request), body.email, body.password, body.display_name, origin(request)
    )
    return user_out(user)


@router.post(
    "/login",
    response_model=TokenPair,
    summary="Log in with email and password",
    description="Returns a 15-minute access token and a single-use refresh token. Repeated failures lock "
    "the account for a growing time (429 with Retry-After).",
    responses=problem_responses(400, 401, 413, 422, 429),
    dependencies=[Depends(login_bucket)],
)
async def login(body: LoginIn, request: Request) -> TokenPair:
    return await accounts.login(gateway_of(request), body.email, body.password, origin(request))


@router.post(
    "/refresh",
    response_model=TokenPair,
    summary="Trade a refresh token for a new token pair",
    description="The refresh token is spent; reusing a spent one revokes its whole session.",
    responses=problem_responses(400, 401, 413, 422, 429),
    dependencies=[Depends(limit_ip)],
)
async def refresh(body: RefreshIn, request: Request) -> TokenPair:
    return await accounts.refresh(gateway_of(request), body.refresh_token, origin(request))


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    summary="End this session",
    responses=problem_responses(401, 403, 429),
)
async def logout(request: Request, ctx: Annotated[CallContext, Depends(SESSION)]) -> Response:
    if ctx.principal.session_id is None:
        raise Unauthorized("no session")
    await accounts.logout(gateway_of(request), ctx.user_id, ctx.principal.session_id, origin(request))
    return Response(status_code=204)


@router.post(
    "/logout-all",
    status_code=204,
    response_class=Response,
    summary="End every session of this account",
    description="Every refresh token and every access token issued so far stop working.",
    responses=problem_responses(401, 403, 429),
)
async def logout_all(request: Request, ctx: Annotated[CallContext, Depends(SESSION)]) -> Response:
    await accounts.logout_everywhere(gateway_of(request), ctx.user_id, origin(request))
    return Response(status_code=204)


@router.post(
    "/password",
    status_code=204,
    response_class=Response,
    summary="Change the password",
    description="Needs the current password. Other sessions are ended; this one continues.",
    responses=problem_responses(400, 401, 403, 413, 422, 429),
)
async def change_password(
    body: ChangePasswordIn, request: Request, ctx: Annotated[CallContext, Depends(SESSION)]
) -> Response:
    gw = gateway_of(request)
    user = await gw.users.get(ctx.user_id)
    if user is None:
        raise Unauthorized("the account no longer exists")
    await accounts.change_password(
        gw,
        user,
        ctx.principal.session_id,
        current=body.current_password,
        new=body.new_password,
        origin=origin(request),
    )
    return Response(status_code=204)
