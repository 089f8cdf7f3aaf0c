"""``/v1/strategies``: the caller's saved strategies and their versions, each route one
``svc.strategy-runner.<op>``.

A saved strategy is a named configuration of a built-in template; its versions are immutable, so
``POST /v1/backtests`` with ``strategy_id`` and ``strategy_version`` is reproducible. Writes take
scope ``trade`` (they change what the account holds, like datasets); reads take ``read``. Another
user's strategy answers 404, like an unknown one.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.auth import CallContext, require
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.idempotency import idempotency_key, run_idempotent
from tradeloom.gateway_auth.pagination import PageQuery, page_query
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.forwarding import (
    forward_named,
    no_nul,
    unwrap_cursor,
    with_cursor,
    wrap_cursor,
)
from tradeloom.shared.contracts.strategy import (
    PARAMS,
    SERVICE,
    StrategyCreate,
    StrategyDeleted,
    StrategyInfo,
    StrategyList,
    StrategyListRequest,
    StrategyRef,
    StrategyVersionAdd,
    StrategyVersionInfo,
    StrategyVersionList,
    StrategyVersionRef,
)

router = APIRouter(prefix="/v1/strategies", tags=["strategies"])
READ = require(Scope.READ)
WRITE = require(Scope.TRADE)
STRATEGY_ID = Path(
    min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$", description="a strategy id from create"
)
VERSION = Path(ge=1, le=1_000_000, description="a version number (1, 2, …)")
PATH_NAMES = {"strategy_id": "path.strategy_id", "version": "path.version"}
READ_ERRORS = problem_responses(401, 403, 404, 422, 429, 503, 504)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422, 429, 503, 504)
ReplyT = TypeVar("ReplyT", bound=BaseModel)


class NewVersion(BaseModel):
    """The body of ``POST /v1/strategies/{strategy_id}/versions`` (the id is in the path)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    params: dict[str, int | float | bool] = PARAMS
    note: str = Field(default="", max_length=500, examples=["slower exit"])


async def call(
    ctx: CallContext, op: str, body: BaseModel, reply_model: type[ReplyT], prefix: str = "query."
) -> ReplyT:
    return await forward_named(ctx, SERVICE, op, body, reply_model, names=PATH_NAMES, prefix=prefix)


@router.post(
    "",
    response_model=StrategyInfo,
    status_code=201,
    summary="Save a strategy: a built-in template with parameters (version 1)",
    description="Scope `trade`; takes `Idempotency-Key`. A name the caller already uses → 409.",
    responses=WRITE_ERRORS,
)
async def create_strategy(
    body: StrategyCreate,
    ctx: Annotated[CallContext, Depends(WRITE)],
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    no_nul(body.model_dump(mode="json"), "body")

    async def run() -> tuple[int, StrategyInfo]:
        return 201, await call(ctx, "strategies_create", body, StrategyInfo, prefix="body.")

    return await run_idempotent(ctx, key, body, run)


@router.get(
    "", response_model=StrategyList, summary="The caller's strategies, newest first", responses=READ_ERRORS
)
async def list_strategies(
    ctx: Annotated[CallContext, Depends(READ)], page: Annotated[PageQuery, Depends(page_query)]
) -> StrategyList:
    body = StrategyListRequest(limit=page.limit, cursor=unwrap_cursor(ctx, "strategy_list", page.cursor))
    reply = await call(ctx, "strategies_list", body, StrategyList)
    return with_cursor(reply, wrap_cursor(ctx, "strategy_list", reply.next_cursor))


@router.get(
    "/{strategy_id}", response_model=StrategyInfo, summary="One saved strategy", responses=READ_ERRORS
)
async def get_strategy(
    strategy_id: Annotated[str, STRATEGY_ID], ctx: Annotated[CallContext, Depends(READ)]
) -> StrategyInfo:
    return await call(ctx, "strategies_get", StrategyRef(strategy_id=strategy_id), StrategyInfo)


@router.delete(
    "/{strategy_id}",
    response_model=StrategyDeleted,
    summary="Delete a strategy and its versions",
    description="Backtests that ran it keep the template, parameters and version they ran. Scope `trade`.",
    responses=WRITE_ERRORS,
)
async def delete_strategy(
    strategy_id: Annotated[str, STRATEGY_ID], ctx: Annotated[CallContext, Depends(WRITE)]
) -> StrategyDeleted:
    return await call(ctx, "strategies_delete", StrategyRef(strategy_id=strategy_id), StrategyDeleted)


@router.post(
    "/{strategy_id}/versions",
    response_model=StrategyVersionInfo,
    status_code=201,
    summary="A new version of a strategy (new parameters; earlier versions stay as they are)",
    description="Scope `trade`; takes `Idempotency-Key`.",
    responses=WRITE_ERRORS,
)
async def add_version(
    strategy_id: Annotated[str, STRATEGY_ID],
    body: NewVersion,
    ctx: Annotated[CallContext, Depends(WRITE)],
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    no_nul(body.model_dump(mode="json"), "body")
    request = StrategyVersionAdd(strategy_id=strategy_id, params=dict(body.params), note=body.note)

    async def run() -> tuple[int, StrategyVersionInfo]:
        return 201, await call(ctx, "strategy_versions_add", request, StrategyVersionInfo, prefix="body.")

    return await run_idempotent(ctx, key, request, run)


@router.get(
    "/{strategy_id}/versions",
    response_model=StrategyVersionList,
    summary="Every version of a strategy, oldest first",
    responses=READ_ERRORS,
)
async def list_versions(
    strategy_id: Annotated[str, STRATEGY_ID], ctx: Annotated[CallContext, Depends(READ)]
) -> StrategyVersionList:
    return await call(
        ctx, "strategy_versions_list", StrategyRef(strategy_id=strategy_id), StrategyVersionList
    )


@router.get(
    "/{strategy_id}/versions/{version}",
    response_model=StrategyVersionInfo,
    summary="One version of a strategy",
    responses=READ_ERRORS,
)
async def get_version(
    strategy_id: Annotated[str, STRATEGY_ID],
    version: Annotated[int, VERSION],
    ctx: Annotated[CallContext, Depends(READ)],
) -> StrategyVersionInfo:
    ref = StrategyVersionRef(strategy_id=strategy_id, version=version)
    return await call(ctx, "strategy_versions_get", ref, StrategyVersionInfo)
