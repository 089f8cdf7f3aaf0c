"""``/v1/backtests``: backtests and optimisation jobs, each route one ``svc.backtest-engine.<op>``.

Submit, cancel and delete take scope ``trade``: a backtest (or a search of up to 10,000 parameter
sets) spends the shared worker pool's CPU like code execution and changes what the account holds,
so a read-only key must not do it; submit also takes from the per-user ``backtests`` bucket (apart from
``code``'s). Reads take ``read``. Another user's backtest answers 404, like an unknown one.
``export.csv`` asks the service to write the CSV to the JetStream object store, then streams that
object chunk by chunk (digest checked at the end). The progress stream is ``routes/sse.py``.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from nats.js.errors import ObjectNotFoundError
from nats.js.object_store import OBJ_CHUNKS_PRE_TEMPLATE, OBJ_DIGEST_TYPE

from tradeloom.gateway_auth.auth import CallContext, gateway_of, require
from tradeloom.gateway_auth.domain import ratelimit
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.forwarding import FROM, QUERY_NAMES, TO, forward_named, time_inputs
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward, Param
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
    ExportKind,
    ExportReady,
    ExportRequest,
    Kind,
    ListBacktests,
    Status,
    SubmitBacktest,
)
from tradeloom.shared.contracts.backtest_optimise import (
    Heatmap,
    HeatmapRequest,
    MetricName,
    OptimisationResults,
    OptimisationRows,
    OptimisationRowsRequest,
)
from tradeloom.shared.contracts.backtest_portfolio import SubmitPortfolioBacktest
from tradeloom.shared.contracts.backtest_results import (
    DailyPnl,
    DailyPnlRequest,
    PositionSeries,
    PositionsRequest,
)
from tradeloom.shared.contracts.backtest_trades import ExitReasonName, TradeSort, TradesPage, TradesRequest
from tradeloom.shared.errors import Unavailable

router = APIRouter(prefix="/v1/backtests", tags=["backtests"])
READ, TRADE = Scope.READ, Scope.TRADE
MAX_COMPARE = 10
BACKTEST_ID = id_param("backtest_id", "a backtest id from submit")
PATH_NAMES = {"backtest_id": "path.backtest_id"}
# a run's results, trades, curves and tables: 409 while it is not completed (or is the other kind)
RESULT_ERRORS = problem_responses(401, 403, 404, 409, 422, 429, 503, 504)
CHUNK_WAIT_S = 5.0


def compare_ids(inputs: dict[str, Any]) -> dict[str, Any]:
    """``prepare`` of compare: ``?ids=a,b`` as ``backtest_ids``, 1..10 well-formed ids."""
    wanted = [part.strip() for part in str(inputs["ids"]).split(",")]
    if not 1 <= len(wanted) <= MAX_COMPARE:
        raise field_error("query.ids", f"give 1 to {MAX_COMPARE} backtest ids, comma-separated")
    if any(
        not part or len(part) > 64 or not part.replace("-", "").replace("_", "").isalnum() for part in wanted
    ):
        raise field_error("query.ids", "each id is 1..64 letters, digits, '-' or '_'")
    return {"backtest_ids": wanted}


ROUTES = (
    Forward(
        "POST", "", TRADE, SERVICE, "submit", SubmitBacktest, BacktestAccepted,
        name="submit", bucket=ratelimit.BACKTESTS, status=202, body=SubmitBacktest, idempotent=True,
        summary="Validate and queue a backtest or an optimisation job",
        description="Answers at once with the id and status `queued`; follow it with "
        "`GET /v1/backtests/{backtest_id}` or `GET /v1/backtests/{backtest_id}/events` (SSE). Scope "
        "`trade`, the per-user `backtests` bucket (not charged for a request refused as invalid); takes "
        "`Idempotency-Key`.",
        errors=WRITE_ERRORS,
    ),
    Forward(
        "POST", "/portfolio", TRADE, SERVICE, "submit_portfolio", SubmitPortfolioBacktest, BacktestAccepted,
        name="submit_portfolio", bucket=ratelimit.BACKTESTS, status=202, body=SubmitPortfolioBacktest,
        idempotent=True, summary="Validate and queue a portfolio backtest: one strategy over several symbols",
        description="One cash balance over 1–20 symbols (candles or datasets), equal or given `weights`; "
        "a backtest job like `POST /v1/backtests` (status, events, cancel, results with `portfolio`, "
        "trades with their `symbol`, equity). Scope `trade`, the `backtests` bucket; takes "
        "`Idempotency-Key`.",
        errors=WRITE_ERRORS,
    ),
    Forward(
        "GET", "", READ, SERVICE, "list", ListBacktests, BacktestList,
        name="list_backtests", page=True, cursor="bt_list",
        summary="The caller's backtests, newest first, filtered and paginated",
        errors=READ_ERRORS,
        query=(
            Param("status", Status | None, Query(), None),
            Param("strategy", str | None, Query(min_length=1, max_length=64), None),
            Param("symbol", str | None, Query(min_length=1, max_length=64), None),
            Param("kind", Kind | None, Query(), None),
            Param("strategy_id", str | None, Query(min_length=1, max_length=64), None),
        ),
    ),
    Forward(
        "GET", "/compare", READ, SERVICE, "compare", CompareRequest, Comparison,
        name="compare",
        summary="Several of the caller's backtests side by side",
        description="`ids`: up to 10, comma-separated; any that is not the caller's → 404.",
        errors=READ_ERRORS,
        query=(Param("ids", str, Query(min_length=1, max_length=MAX_COMPARE * 65, examples=["id1,id2"])),),
        prepare=compare_ids,
    ),
    Forward(
        "GET", "/{backtest_id}", READ, SERVICE, "status", BacktestRef, BacktestSummary,
        name="status", path_params=(BACKTEST_ID,), errors=READ_ERRORS,
        summary="Status, phase, percent and error of one backtest",
    ),
    Forward(
        "DELETE", "/{backtest_id}", TRADE, SERVICE, "delete", BacktestRef, BacktestDeleted,
        name="delete", path_params=(BACKTEST_ID,), errors=WRITE_ERRORS,
        summary="Delete a finished backtest and its results",
        description="409 while queued or running (cancel it first). Scope `trade`.",
    ),
    Forward(
        "POST", "/{backtest_id}/cancel", TRADE, SERVICE, "cancel", BacktestRef, BacktestSummary,
        name="cancel", path_params=(BACKTEST_ID,), errors=WRITE_ERRORS, idempotent=True,
        summary="Cancel a queued (at once) or running (within a second) backtest",
        description="Scope `trade`; takes `Idempotency-Key`.",
    ),
    Forward(
        "GET", "/{backtest_id}/results", READ, SERVICE, "results", BacktestRef, BacktestResults,
        name="results", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="Metrics of a completed backtest (409 until then)",
    ),
    Forward(
        "GET", "/{backtest_id}/trades", READ, SERVICE, "trades", TradesRequest, TradesPage,
        name="trades", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="Trade records, filtered and sorted, paginated",
        description="Filters combine: `side`, `outcome` (winners: PnL > 0, losers: < 0), entry time "
        "`from`/`to` (ISO 8601 or ns), `min_pnl`/`max_pnl`, `exit_reason`; `sort_by` (ties by entry "
        "order) and `descending`. The trade open at the end of the data (`end_of_data`) is listed and "
        "in `trade_count`, not in `metrics.trades`.",
        query=(
            Param("side", Literal["long", "short"] | None, Query(), None),
            Param("outcome", Literal["winners", "losers"] | None, Query(), None),
            Param("from_", str | None, FROM, None), Param("to", str | None, TO, None),
            Param("min_pnl", Decimal | None, Query(allow_inf_nan=False, examples=["-100"]), None),
            Param("max_pnl", Decimal | None, Query(allow_inf_nan=False, examples=["250.5"]), None),
            Param("exit_reason", ExitReasonName | None, Query(), None),
            Param("sort_by", TradeSort, Query(), "seq"),
            Param("descending", bool, Query(), False),
        ),
        # a position only means something for one sort and one set of filters
        page=True, cursor="bt_trades:{backtest_id}:{sort_by}:{descending}:{side}:{outcome}:{from_}:{to}:"
        "{min_pnl}:{max_pnl}:{exit_reason}",
        prepare=time_inputs, names={**PATH_NAMES, **QUERY_NAMES},
    ),
    Forward(
        "GET", "/{backtest_id}/equity", READ, SERVICE, "equity", EquityRequest, EquityCurves,
        name="equity", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="Equity and drawdown, LTTB-downsampled to at most max_points",
        query=(Param("max_points", int, Query(ge=3, le=2000), 2000),),
    ),
    Forward(
        "GET", "/{backtest_id}/positions", READ, SERVICE, "positions", PositionsRequest, PositionSeries,
        name="positions", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="Position, open trades and gross exposure per bar, LTTB-downsampled to at most max_points",
        query=(Param("max_points", int, Query(ge=3, le=2000), 2000),),
    ),
    Forward(
        "GET", "/{backtest_id}/daily-pnl", READ, SERVICE, "daily_pnl", DailyPnlRequest, DailyPnl,
        name="daily_pnl", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="PnL per UTC day, oldest first, with % profitable days and the best and worst day",
        page=True, cursor="bt_daily:{backtest_id}",
    ),
    Forward(
        "GET", "/{backtest_id}/optimisation", READ, SERVICE, "optimisation", BacktestRef, OptimisationResults,
        name="optimisation", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="Best parameters of a search, or a walk-forward's folds (409 for a plain backtest)",
    ),
    Forward(
        "GET", "/{backtest_id}/optimisation/rows", READ, SERVICE, "optimisation_rows",
        OptimisationRowsRequest, OptimisationRows,
        name="optimisation_rows", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="A search's whole table, sortable by a metric, paginated",
        query=(
            Param("sort_by", MetricName | None, Query(description="default: evaluation order"), None),
            Param("descending", bool, Query(), True),
        ),
        # a position only means something in one order
        page=True, cursor="bt_opt_rows:{backtest_id}:{sort_by}:{descending}",
    ),
    Forward(
        "GET", "/{backtest_id}/optimisation/heatmap", READ, SERVICE, "optimisation_heatmap",
        HeatmapRequest, Heatmap,
        name="optimisation_heatmap", path_params=(BACKTEST_ID,), errors=RESULT_ERRORS,
        summary="A metric over two parameters of a search (best over the others)",
        query=(
            Param("x", str, Query(min_length=1, max_length=64, examples=["fast"])),
            Param("y", str, Query(min_length=1, max_length=64, examples=["slow"])),
            Param("metric", MetricName | None, Query(description="default: the optimised metric"), None),
        ),
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
READ_CALLER = require(Scope.READ)


@router.get(
    "/{backtest_id}/export.csv",
    response_class=StreamingResponse,
    summary="The full equity (time_ns,equity,drawdown), trades or daily PnL (day,day_ns,pnl) as CSV",
    responses={200: {"content": {"text/csv": {}}}, **RESULT_ERRORS},
)
async def export_csv(
    backtest_id: Annotated[str, BACKTEST_ID.spec],
    ctx: Annotated[CallContext, Depends(READ_CALLER)],
    kind: Annotated[ExportKind, Query()] = "equity",
) -> StreamingResponse:
    request = ExportRequest(backtest_id=backtest_id, kind=kind)
    ready = await forward_named(ctx, SERVICE, "export", request, ExportReady, names=PATH_NAMES)
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
