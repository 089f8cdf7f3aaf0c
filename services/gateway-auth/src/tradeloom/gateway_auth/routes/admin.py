"""``/v1/admin/*``: list users, disable/enable a user, read everyone's audit log (role admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from tradeloom.gateway_auth import accounts
from tradeloom.gateway_auth.auth import CallContext, gateway_of, require
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.pagination import PageQuery, after, page_of, page_query
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.forwarding import UUID_PATTERN
from tradeloom.gateway_auth.routes.views import audit_out, user_out
from tradeloom.gateway_auth.schemas import AuditOut, Page, UserOut

router = APIRouter(prefix="/v1/admin", tags=["admin"])
ADMIN = require(Scope.ADMIN, session_only=True)
ERRORS = problem_responses(401, 403, 422, 429)
USER_ID = Path(pattern=UUID_PATTERN)


@router.get("/users", response_model=Page[UserOut], summary="Every user, newest first", responses=ERRORS)
async def list_users(
    request: Request,
    _: Annotated[CallContext, Depends(ADMIN)],
    page: Annotated[PageQuery, Depends(page_query)],
) -> Page[UserOut]:
    gw = gateway_of(request)
    rows = await gw.users.page(after(gw, "users", page), page.limit + 1)
    items, cursor = page_of(gw, "users", rows, page.limit, lambda row: row.id)
    return Page[UserOut](items=[user_out(row) for row in items], next_cursor=cursor)


async def _set_status(request: Request, ctx: CallContext, user_id: str, status: str) -> UserOut:
    if user_id == ctx.user_id and status == "disabled":
        raise field_error("path.user_id", "admins cannot disable themselves")
    origin = accounts.Origin(ctx.ip, request.headers.get("user-agent", ""))
    return user_out(await accounts.set_status(gateway_of(request), ctx.user_id, user_id, status, origin))


@router.post(
    "/users/{user_id}/disable",
    response_model=UserOut,
    summary="Disable a user",
    description="Their access tokens, refresh tokens and API keys stop working at once.",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def disable_user(
    request: Request, user_id: Annotated[str, USER_ID], ctx: Annotated[CallContext, Depends(ADMIN)]
) -> UserOut:
    return await _set_status(request, ctx, user_id, "disabled")


@router.post(
    "/users/{user_id}/enable",
    response_model=UserOut,
    summary="Re-enable a disabled user",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def enable_user(
    request: Request, user_id: Annotated[str, USER_ID], ctx: Annotated[CallContext, Depends(ADMIN)]
) -> UserOut:
    return await _set_status(request, ctx, user_id, "active")


@router.get("/audit", response_model=Page[AuditOut], summary="The whole audit log", responses=ERRORS)
async def audit_log(
    request: Request,
    _: Annotated[CallContext, Depends(ADMIN)],
    page: Annotated[PageQuery, Depends(page_query)],
    user_id: str | None = Query(None, pattern=UUID_PATTERN, description="only this user's entries"),
) -> Page[AuditOut]:
    gw = gateway_of(request)
    kind = f"audit-all:{user_id or ''}"
    rows = await gw.audit.page(user_id, after(gw, kind, page, int), page.limit + 1)
    items, cursor = page_of(gw, kind, rows, page.limit, lambda row: row.id)
    return Page[AuditOut](items=[audit_out(row) for row in items], next_cursor=cursor)
