"""``/v1/backtests``: backtests and optimisation jobs, each route one ``svc.backtest-engine.<op>``.

Submit, cancel and delete take scope ``trade``: a backtest (or a search of up to 10,000 parameter
sets) spends the shared worker pool's CPU like code execution and changes what the account holds,
so a read-only key must not do it; submit also takes from the strict per-user ``code`` bucket for
the same reason. Reads take ``read``. Another user's backtest answers 404, like an unknown one.
``export.csv`` asks the service to write the CSV to the JetStream object store, then streams that
object chunk by chunk (digest checked at the end). The progress stream is ``routes/sse.py``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, StreamingResponse
from nats.js.errors import ObjectNotFoundError
from nats.js.object_store import OBJ_CHUNKS_PRE_TEMPLATE, OBJ_DIGEST_TYPE
from pydantic import BaseModel

from tradeloom.gateway_auth.auth import CallContext, gateway_of, require
from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.errors import field_error
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
from tradeloom.shared.contracts.backtest import (
    SERVICE,
    BacktestAccepted,
    BacktestDeleted,
    BacktestList,
    BacktestRef,
    BacktestResults,
    BacktestSummary,
    CompareRequest,
    Comparison,
    EquityCurves,
    EquityRequest,
    ExportReady,
    ExportRequest,
    Kind,
    ListBacktests,
    Status,
    SubmitBacktest,
    TradesPage,
    TradesRequest,
)
from tradeloom.shared.contracts.backtest_optimise import (
    Heatmap,
    HeatmapRequest,
    MetricName,
    OptimisationResults,
    OptimisationRows,
    OptimisationRowsRequest,
)
from tradeloom.shared.errors import Unavailable

router = APIRouter(prefix="/v1/backtests", tags=["backtests"])
READ = require(Scope.READ)
SUBMIT = require(Scope.TRADE, bucket=ratelimit.BACKTESTS)
WRITE = require(Scope.TRADE)
MAX_COMPARE = 10
ID_PATTERN = r"^[A-Za-z0-9_\-]+$"
BACKTEST_ID = Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="a backtest id from submit")
PATH_NAMES = {"backtest_id": "path.backtest_id"}
READ_ERRORS = problem_responses(401, 403, 404, 409, 422, 429, 503, 504)
WRITE_ERRORS = problem_responses(401, 403, 404, 409, 422, 429, 503, 504)
CHUNK_WAIT_S = 5.0
ReplyT = TypeVar("ReplyT", bound=BaseModel)


async def call(
    ctx: CallContext, op: str, body: BaseModel, reply_model: type[ReplyT], prefix: str = "query."
) -> ReplyT:
    return await forward_named(ctx, SERVICE, op, body, reply_model, names=PATH_NAMES, prefix=prefix)


@router.post(
    "",
    response_model=BacktestAccepted,
    status_code=202,
    summary="Validate and queue a backtest or an optimisation job",
    description="Answers at once with the id and status `queued`; follow it with "
    "`GET /v1/backtests/{backtest_id}` or `GET /v1/backtests/{backtest_id}/events` (SSE). Scope "
    "`trade`, the per-user `backtests` bucket (not charged for a request refused as invalid); takes "
    "`Idempotency-Key`.",
    responses=WRITE_ERRORS,
)
async def submit(
    body: SubmitBacktest,
    ctx: Annotated[CallContext, Depends(SUBMIT)],
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    no_nul(body.model_dump(mode="json"), "body")

    async def run() -> tuple[int, BacktestAccepted]:
        return 202, await call(ctx, "submit", body, BacktestAccepted, prefix="body.")

    return await run_idempotent(ctx, key, body, run)


@router.get(
    "",
    response_model=BacktestList,
    summary="The caller's backtests, newest first, filtered and paginated",
    responses=READ_ERRORS,
)
async def list_backtests(
    *,
    ctx: Annotated[CallContext, Depends(READ)],
    page: Annotated[PageQuery, Depends(page_query)],
    status: Annotated[Status | None, Query()] = None,
    strategy: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    symbol: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    kind: Annotated[Kind | None, Query()] = None,
) -> BacktestList:
    no_nul(strategy, "query.strategy")
    no_nul(symbol, "query.symbol")
    body = ListBacktests(
        limit=page.limit, cursor=unwrap_cursor(ctx, "bt_list", page.cursor), status=status,
        strategy=strategy, symbol=symbol, kind=kind,
    )  # fmt: skip
    reply = await call(ctx, "list", body, BacktestList)
    return with_cursor(reply, wrap_cursor(ctx, "bt_list", reply.next_cursor))


@router.get(
    "/compare",
    response_model=Comparison,
    summary="Several of the caller's backtests side by side",
    description="`ids`: up to 10, comma-separated; any that is not the caller's → 404.",
    responses=READ_ERRORS,
)
async def compare(
    ctx: Annotated[CallContext, Depends(READ)],
    ids: Annotated[str, Query(min_length=1, max_length=MAX_COMPARE * 65, examples=["id1,id2"])],
) -> Comparison:
    wanted = [part.strip() for part in ids.split(",")]
    if not 1 <= len(wanted) <= MAX_COMPARE:
        raise field_error("query.ids", f"give 1 to {MAX_COMPARE} backtest ids, comma-separated")
    if any(
        not part or len(part) > 64 or not part.replace("-", "").replace("_", "").isalnum() for part in wanted
    ):
        raise field_error("query.ids", "each id is 1..64 letters, digits, '-' or '_'")
    return await call(ctx, "compare", CompareRequest(backtest_ids=wanted), Comparison)


@router.get(
    "/{backtest_id}",
    response_model=BacktestSummary,
    summary="Status, phase, percent and error of one backtest",
    responses=READ_ERRORS,
)
async def status(
    backtest_id: Annotated[str, BACKTEST_ID], ctx: Annotated[CallContext, Depends(READ)]
) -> BacktestSummary:
    return await call(ctx, "status", BacktestRef(backtest_id=backtest_id), BacktestSummary)


@router.delete(
    "/{backtest_id}",
    response_model=BacktestDeleted,
    summary="Delete a finished backtest and its results",
    description="409 while queued or running (cancel it first). Scope `trade`.",
    responses=WRITE_ERRORS,
)
async def delete(
    backtest_id: Annotated[str, BACKTEST_ID], ctx: Annotated[CallContext, Depends(WRITE)]
) -> BacktestDeleted:
    return await call(ctx, "delete", BacktestRef(backtest_id=backtest_id), BacktestDeleted)


@router.post(
    "/{backtest_id}/cancel",
    response_model=BacktestSummary,
    summary="Cancel a queued (at once) or running (within a second) backtest",
    description="Scope `trade`; takes `Idempotency-Key`.",
    responses=WRITE_ERRORS,
)
async def cancel(
    backtest_id: Annotated[str, BACKTEST_ID],
    ctx: Annotated[CallContext, Depends(WRITE)],
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    ref = BacktestRef(backtest_id=backtest_id)

    async def run() -> tuple[int, BacktestSummary]:
        return 200, await call(ctx, "cancel", ref, BacktestSummary)

    return await run_idempotent(ctx, key, None, run)


@router.get(
    "/{backtest_id}/results",
    response_model=BacktestResults,
    summary="Metrics of a completed backtest (409 until then)",
    responses=READ_ERRORS,
)
async def results(
    backtest_id: Annotated[str, BACKTEST_ID], ctx: Annotated[CallContext, Depends(READ)]
) -> BacktestResults:
    return await call(ctx, "results", BacktestRef(backtest_id=backtest_id), BacktestResults)


@router.get(
    "/{backtest_id}/trades",
    response_model=TradesPage,
    summary="Trade records, paginated",
    responses=READ_ERRORS,
)
async def trades(
    backtest_id: Annotated[str, BACKTEST_ID],
    ctx: Annotated[CallContext, Depends(READ)],
    page: Annotated[PageQuery, Depends(page_query)],
) -> TradesPage:
    kind = f"bt_trades:{backtest_id}"
    body = TradesRequest(
        backtest_id=backtest_id, limit=page.limit, cursor=unwrap_cursor(ctx, kind, page.cursor)
    )
    reply = await call(ctx, "trades", body, TradesPage)
    return with_cursor(reply, wrap_cursor(ctx, kind, reply.next_cursor))


@router.get(
    "/{backtest_id}/equity",
    response_model=EquityCurves,
    summary="Equity and drawdown, LTTB-downsampled to at most max_points",
    responses=READ_ERRORS,
)
async def equity(
    backtest_id: Annotated[str, BACKTEST_ID],
    ctx: Annotated[CallContext, Depends(READ)],
    max_points: Annotated[int, Query(ge=3, le=2000)] = 2000,
) -> EquityCurves:
    return await call(
        ctx, "equity", EquityRequest(backtest_id=backtest_id, max_points=max_points), EquityCurves
    )


@router.get(
    "/{backtest_id}/export.csv",
    response_class=StreamingResponse,
    summary="The full equity (time_ns,equity,drawdown) or trade list as CSV, streamed",
    responses={200: {"content": {"text/csv": {}}}, **READ_ERRORS},
)
async def export_csv(
    backtest_id: Annotated[str, BACKTEST_ID],
    ctx: Annotated[CallContext, Depends(READ)],
    kind: Annotated[Literal["equity", "trades"], Query()] = "equity",
) -> StreamingResponse:
    ready = await call(ctx, "export", ExportRequest(backtest_id=backtest_id, kind=kind), ExportReady)
    js = gateway_of(ctx.request).js
    try:
        info = await (await js.object_store(ready.bucket)).get_info(ready.object_name)
    except ObjectNotFoundError as error:
        raise Unavailable("the export is not in the object store yet; retry") from error
    headers = {
        "Content-Disposition": f'attachment; filename="{backtest_id}-{kind}.csv"',
        "Content-Length": str(info.size),
    }
    return StreamingResponse(object_chunks(ctx, ready.bucket, info), media_type="text/csv", headers=headers)


async def object_chunks(ctx: CallContext, bucket: str, info: object) -> AsyncIterator[bytes]:
    """An object's chunks in order, as they arrive (an ordered consumer on its chunk subject)."""
    size = int(getattr(info, "size", 0) or 0)
    if size == 0:
        return
    js = gateway_of(ctx.request).js
    subject = OBJ_CHUNKS_PRE_TEMPLATE.format(bucket=bucket, obj=getattr(info, "nuid", ""))
    sub = await js.subscribe(subject, ordered_consumer=True)
    digest = hashlib.sha256()
    try:
        while True:
            message = await sub.next_msg(timeout=CHUNK_WAIT_S)
            digest.update(message.data)
            yield message.data
            if message.metadata.num_pending == 0:
                break
    finally:
        await sub.unsubscribe()
    expected = str(getattr(info, "digest", "") or "")
    expected = expected.replace(OBJ_DIGEST_TYPE, "").replace(OBJ_DIGEST_TYPE.upper(), "")
    if expected and base64.urlsafe_b64decode(expected) != digest.digest():
        # the headers are sent: all that is left is to break the response off (the client sees it)
        raise RuntimeError(f"export object {bucket}/{getattr(info, 'name', '')}: digest mismatch")


@router.get(
    "/{backtest_id}/optimisation",
    response_model=OptimisationResults,
    summary="Best parameters of a search, or a walk-forward's folds (409 for a plain backtest)",
    responses=READ_ERRORS,
)
async def optimisation(
    backtest_id: Annotated[str, BACKTEST_ID], ctx: Annotated[CallContext, Depends(READ)]
) -> OptimisationResults:
    return await call(ctx, "optimisation", BacktestRef(backtest_id=backtest_id), OptimisationResults)


@router.get(
    "/{backtest_id}/optimisation/rows",
    response_model=OptimisationRows,
    summary="A search's whole table, sortable by a metric, paginated",
    responses=READ_ERRORS,
)
async def optimisation_rows(
    backtest_id: Annotated[str, BACKTEST_ID],
    ctx: Annotated[CallContext, Depends(READ)],
    page: Annotated[PageQuery, Depends(page_query)],
    sort_by: Annotated[MetricName | None, Query(description="default: evaluation order")] = None,
    descending: Annotated[bool, Query()] = True,
) -> OptimisationRows:
    kind = f"bt_opt_rows:{backtest_id}:{sort_by}:{descending}"  # a position only means something in one order
    body = OptimisationRowsRequest(
        backtest_id=backtest_id, limit=page.limit, cursor=unwrap_cursor(ctx, kind, page.cursor),
        sort_by=sort_by, descending=descending,
    )  # fmt: skip
    reply = await call(ctx, "optimisation_rows", body, OptimisationRows)
    return with_cursor(reply, wrap_cursor(ctx, kind, reply.next_cursor))


@router.get(
    "/{backtest_id}/optimisation/heatmap",
    response_model=Heatmap,
    summary="A metric over two parameters of a search (best over the others)",
    responses=READ_ERRORS,
)
async def optimisation_heatmap(
    backtest_id: Annotated[str, BACKTEST_ID],
    ctx: Annotated[CallContext, Depends(READ)],
    x: Annotated[str, Query(min_length=1, max_length=64, examples=["fast"])],
    y: Annotated[str, Query(min_length=1, max_length=64, examples=["slow"])],
    metric: Annotated[MetricName | None, Query(description="default: the optimised metric")] = None,
) -> Heatmap:
    body = HeatmapRequest(backtest_id=backtest_id, x=x, y=y, metric=metric)
    return await call(ctx, "optimisation_heatmap", body, Heatmap)
