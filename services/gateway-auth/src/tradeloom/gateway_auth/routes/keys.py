"""``/v1/api-keys``: keys for programs: created with scopes, shown once, listed masked, revocable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse

from tradeloom.gateway_auth.auth import CallContext, gateway_of, require
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.domain.tokens import mask_api_key, new_api_key
from tradeloom.gateway_auth.idempotency import idempotency_key, run_idempotent
from tradeloom.gateway_auth.pagination import PageQuery, after, page_of, page_query
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.forwarding import UUID_PATTERN
from tradeloom.gateway_auth.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut, Page
from tradeloom.gateway_auth.store.api_keys import ApiKeyRow
from tradeloom.gateway_auth.store.audit import AuditEntry
from tradeloom.shared.context import request_id_var
from tradeloom.shared.errors import NotFound

router = APIRouter(prefix="/v1/api-keys", tags=["api keys"])
SESSION = require(Scope.READ, session_only=True)
KEY_ID = Path(pattern=UUID_PATTERN, description="the key's id (not its secret)")


def key_out(row: ApiKeyRow) -> ApiKeyOut:
    return ApiKeyOut(
        id=row.id,
        name=row.name,
        masked_key=mask_api_key(row.key_id),
        scopes=row.scopes,
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


def _entry(ctx: CallContext, action: str, key_uuid: str) -> AuditEntry:
    return AuditEntry(
        action, "success", ctx.user_id, ctx.user_id, ctx.ip, request_id_var.get(), {"api_key_id": key_uuid}
    )


@router.post(
    "",
    status_code=201,
    response_model=ApiKeyCreated,
    summary="Create an API key",
    description="Scopes are `read` and/or `trade` (never admin). The key is in this response only. "
    "Send an `Idempotency-Key` header to make retries safe.",
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429),
)
async def create_key(
    body: ApiKeyIn,
    request: Request,
    ctx: Annotated[CallContext, Depends(SESSION)],
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    gw = gateway_of(request)

    async def run() -> tuple[int, ApiKeyCreated]:
        made = new_api_key()
        async with gw.engine.begin() as conn:
            row = await gw.api_keys.create(
                conn,
                ctx.user_id,
                key_id=made.key_id,
                name=body.name,
                secret_hash=made.secret_hash,
                scopes=sorted(set(body.scopes)),
                expires_at=body.expires_at,
            )
            await gw.audit.add(conn, _entry(ctx, "api_key_created", row.id))
        return 201, ApiKeyCreated(**key_out(row).model_dump(), key=made.secret)

    return await run_idempotent(ctx, key, body, run)


@router.get(
    "",
    response_model=Page[ApiKeyOut],
    summary="The caller's API keys, masked",
    responses=problem_responses(401, 403, 422, 429),
)
async def list_keys(
    request: Request,
    ctx: Annotated[CallContext, Depends(SESSION)],
    page: Annotated[PageQuery, Depends(page_query)],
) -> Page[ApiKeyOut]:
    gw = gateway_of(request)
    rows = await gw.api_keys.page(ctx.user_id, after(gw, "api_keys", page), page.limit + 1)
    items, cursor = page_of(gw, "api_keys", rows, page.limit, lambda row: row.id)
    return Page[ApiKeyOut](items=[key_out(row) for row in items], next_cursor=cursor)


@router.get(
    "/{key_id}",
    response_model=ApiKeyOut,
    summary="One API key, masked",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def get_key(
    request: Request, key_id: Annotated[str, KEY_ID], ctx: Annotated[CallContext, Depends(SESSION)]
) -> ApiKeyOut:
    row = await gateway_of(request).api_keys.get(ctx.user_id, key_id)
    if row is None:
        raise NotFound("no such API key")
    return key_out(row)


@router.delete(
    "/{key_id}",
    status_code=204,
    response_class=Response,
    summary="Revoke an API key",
    description="Takes effect at once (within the per-instance cache time). Revoking twice is fine.",
    responses=problem_responses(401, 403, 404, 422, 429),
)
async def revoke_key(
    request: Request, key_id: Annotated[str, KEY_ID], ctx: Annotated[CallContext, Depends(SESSION)]
) -> Response:
    gw = gateway_of(request)
    async with gw.engine.begin() as conn:
        row = await gw.api_keys.revoke(conn, ctx.user_id, key_id)
        if row is None:
            raise NotFound("no such API key")
        await gw.audit.add(conn, _entry(ctx, "api_key_revoked", row.id))
    gw.access_changed(ctx.user_id)  # this instance at once; others within USER_CACHE_S
    return Response(status_code=204)
