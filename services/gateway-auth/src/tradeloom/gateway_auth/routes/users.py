"""``/v1/users/me``: profile, preferences, sessions and the caller's own audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from tradeloom.gateway_auth import account_settings, accounts
from tradeloom.gateway_auth.auth import CallContext, client_ip, gateway_of, require
from tradeloom.gateway_auth.domain.accounts import with_defaults
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.pagination import PageQuery, after, page_of, page_query
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.forwarding import UUID_PATTERN
from tradeloom.gateway_auth.routes.views import audit_out, user_out
from tradeloom.gateway_auth.schemas import (
    AuditOut,
    Page,
    Preferences,
    PreferencesPatch,
    SessionOut,
    UserOut,
    UserPatch,
)
from tradeloom.gateway_auth.store.users import UserRow
from tradeloom.shared.errors import Unauthorized

router = APIRouter(prefix="/v1/users/me", tags=["users"])
READ = require(Scope.READ)
SESSION = require(Scope.READ, session_only=True)
ERRORS = problem_responses(401, 403, 429)


@router.get("", response_model=UserOut, summary="The caller's profile", responses=ERRORS)
async def get_me(request: Request, ctx: Annotated[CallContext, Depends(READ)]) -> UserOut:
    gw = gateway_of(request)
    # as stale as the auth state at most; one read per user at a time, refreshed ahead
    user = await gw.auth_cache.get_or_load(("profile", ctx.user_id), lambda: gw.users.get(ctx.user_id))
    if not isinstance(user, UserRow):
        raise Unauthorized("the account no longer exists")
    return user_out(user)


@router.patch(
    "",
    response_model=UserOut,
    summary="Update the caller's profile",
    responses=problem_responses(401, 403, 422, 429),
)
async def patch_me(
    body: UserPatch, request: Request, ctx: Annotated[CallContext, Depends(SESSION)]
) -> UserOut:
    origin = accounts.Origin(client_ip(request), request.headers.get("user-agent", ""))
    user = await account_settings.update_profile(gateway_of(request), ctx.user_id, body.display_name, origin)
    return user_out(user)


@router.get(
    "/preferences", response_model=Preferences, summary="Preferences, with defaults", responses=ERRORS
)
async def get_preferences(request: Request, ctx: Annotated[CallContext, Depends(READ)]) -> Preferences:
    stored = await gateway_of(request).users.preferences(ctx.user_id)
    return Preferences.model_validate(with_defaults(stored))


@router.patch(
    "/preferences",
    response_model=Preferences,
    summary="Change some preferences",
    description="Only the fields sent change (nested groups merge); `null` resets a group to its defaults.",
    responses=problem_responses(401, 403, 422, 429),
)
async def patch_preferences(
    body: PreferencesPatch, request: Request, ctx: Annotated[CallContext, Depends(SESSION)]
) -> Preferences:
    patch = body.model_dump(exclude_unset=True)
    for group in ("notifications", "ui"):
        if isinstance(patch.get(group), dict):
            patch[group] = {k: v for k, v in patch[group].items() if v is not None}
    origin = accounts.Origin(client_ip(request), request.headers.get("user-agent", ""))
    merged = await account_settings.update_preferences(gateway_of(request), ctx.user_id, patch, origin)
    return Preferences.model_validate(with_defaults(merged))


@router.get("/sessions", response_model=Page[SessionOut], summary="Active sessions", responses=ERRORS)
async def list_sessions(
    request: Request,
    ctx: Annotated[CallContext, Depends(SESSION)],
    page: Annotated[PageQuery, Depends(page_query)],
) -> Page[SessionOut]:
    gw = gateway_of(request)
    rows = await gw.sessions.page(ctx.user_id, after(gw, "sessions", page), page.limit + 1)
    items, cursor = page_of(gw, "sessions", rows, page.limit, lambda row: row.id)
    out = [
        SessionOut(
            **{k: v for k, v in row.__dict__.items() if k != "revoked_at"},
            current=row.id == ctx.principal.session_id,
        )
        for row in items
    ]
    return Page[SessionOut](items=out, next_cursor=cursor)


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    response_class=Response,
    summary="End one of the caller's sessions",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def delete_session(
    request: Request,
    session_id: Annotated[str, Path(pattern=UUID_PATTERN)],
    ctx: Annotated[CallContext, Depends(SESSION)],
) -> Response:
    origin = accounts.Origin(client_ip(request), request.headers.get("user-agent", ""))
    await accounts.end_session(gateway_of(request), ctx.user_id, session_id, origin)
    return Response(status_code=204)


@router.get("/audit", response_model=Page[AuditOut], summary="The caller's audit trail", responses=ERRORS)
async def my_audit(
    request: Request,
    ctx: Annotated[CallContext, Depends(READ)],
    page: Annotated[PageQuery, Depends(page_query)],
) -> Page[AuditOut]:
    gw = gateway_of(request)
    rows = await gw.audit.page(ctx.user_id, after(gw, "audit", page, int), page.limit + 1)
    items, cursor = page_of(gw, "audit", rows, page.limit, lambda row: row.id)
    return Page[AuditOut](items=[audit_out(row) for row in items], next_cursor=cursor)
