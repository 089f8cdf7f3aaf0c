"""``/v1/datasets``: uploaded OHLCV datasets, each route one or more ``svc.market-data.datasets_*``.

Writes (upload, resample, delete) take scope ``trade``: they create or destroy the caller's data
used by backtests, which a read-only (dashboard) key must not do; reads take ``read``. Every
dataset belongs to the caller: another user's id answers 404, like an unknown one.

Upload (``POST /v1/datasets?name=…``, body = the CSV, ``Content-Type: text/csv``; or a Parquet file,
``Content-Type: application/vnd.apache.parquet``, forwarded as base64 text): the body is read
as it arrives and forwarded as ``datasets_upload_begin``, then ``datasets_upload_chunk`` per piece
of at most ``PIECE_BYTES``, then ``datasets_upload_commit`` — so the gateway never holds the file.
A body over the service's ``max_bytes`` stops at once with 413; a file with bad rows is refused
whole with 422 and ``details.rows[] {line, column, reason}`` and ``bad_row_count``. ``Idempotency-Key``
covers the name and options (the body is streamed, not hashed); dataset names are unique per user,
so a retry without a key gets 409.

The commit validates and stores the whole file, which takes seconds per 10 MB (see
``bench/bench_dataset_upload.py``): it gets its own deadline (``DATASET_COMMIT_TIMEOUT_S``,
default 300 s; so does a resample, which also stores a whole dataset) instead of the 2 s of a
forwarded call. The request ends with the commit's outcome, not a 504 followed by a dataset
appearing later (which made clients retry into a duplicate).
"""

from __future__ import annotations

import asyncio
import base64
import codecs
import contextlib
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.auth import CallContext, gateway_of, require
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.idempotency import idempotency_key, run_idempotent
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.forwarding import CURSOR, FROM, QUERY_NAMES, TO, forward_named, time_inputs
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.market_data import (
    DatasetBarsReply,
    DatasetBarsRequest,
    DatasetDeleted,
    DatasetInfo,
    DatasetInspection,
    DatasetList,
    DatasetListRequest,
    DatasetRef,
    DatasetResample,
    DatasetUploadAbort,
    DatasetUploadAborted,
    DatasetUploadBegin,
    DatasetUploadChunk,
    DatasetUploadCommit,
    DatasetUploadProgress,
    DatasetUploadStarted,
)
from tradeloom.shared.contracts.market_data_preprocess import (
    DatasetDerived,
    DatasetDerivedRequest,
    DatasetPreprocess,
    DatasetPreprocessed,
    Step,
)
from tradeloom.shared.errors import ServiceError

SERVICE = "market-data"
router = APIRouter(prefix="/v1/datasets", tags=["datasets"])
UPLOAD_PATH = "/v1/datasets"  # POST: its own body limit (settings.dataset_upload_max_bytes)
WRITE = require(Scope.TRADE)
READ, TRADE = Scope.READ, Scope.TRADE
PREPROCESS_DEADLINE_S = 300.0  # reads, transforms and stores a whole dataset
PIECE_BYTES = 512 * 1024  # per datasets_upload_chunk (the contract allows 700,000 characters)
CSV_TYPES = ("text/csv", "text/plain", "application/octet-stream")
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet")
PARQUET_PIECE_BYTES = 3 * 170_000  # whole base64 quartets: 680,000 characters per chunk
NAME_PATTERN = r"^[\w.\- ]+$"
DATASET_ID = id_param("dataset_id", "a dataset id")
PATH_NAMES = {"dataset_id": "path.dataset_id"}
UPLOAD_NAMES = {"data": "body", "upload_id": "body", "seq": "body"}
BEGIN_NAMES = {"request_key": "header.Idempotency-Key"}
# the upload's streamed file: too large (413) or neither CSV nor Parquet (415)
UPLOAD_ERRORS = problem_responses(401, 403, 404, 409, 413, 415, 422, 429, 503, 504)
CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string", "example": "time,open,high,low,close,volume\n"}},
            PARQUET_TYPES[0]: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


class UploadTooLarge(ServiceError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(ServiceError):
    code = "unsupported_media_type"
    status = 415


class UploadOptions(BaseModel):
    """What an upload's ``Idempotency-Key`` fingerprint covers (the query parameters)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    symbol: str | None
    columns: dict[str, str] | None
    timezone: str
    format: Literal["csv", "parquet"] = "csv"


class PreprocessIn(BaseModel):
    """``datasets_preprocess``'s body: the path gives the dataset."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)
    steps: list[Step] = Field(min_length=1, max_length=20)


class ResampleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeframe: str = Field(max_length=8, examples=["1h"], description="a multiple of the dataset's bars")
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=NAME_PATTERN)


def parse_columns(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    try:
        columns = json.loads(text)
    except ValueError:
        columns = None
    if not isinstance(columns, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and "\x00" not in k + v for k, v in columns.items()
    ):
        raise field_error("query.columns", 'must be a JSON object such as {"time": "When", "volume": "Qty"}')
    return columns


def file_format(request: Request) -> str:
    """``csv`` or ``parquet`` from the declared Content-Type (none: CSV); else 415."""
    declared = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if declared in PARQUET_TYPES:
        return "parquet"
    if declared and declared not in CSV_TYPES:
        raise UnsupportedMediaType(
            f"send the CSV as text/csv or Parquet as {PARQUET_TYPES[0]}, not {declared}",
            details={"accepted": CSV_TYPES + PARQUET_TYPES},
        )
    return "csv"


async def stream_upload(
    ctx: CallContext, request: Request, options: UploadOptions, key: str | None = None
) -> DatasetInfo:
    """begin → chunk per ``PIECE_BYTES`` of the body as it arrives → commit; anything that stops it
    on the way (too large, not UTF-8, a refused chunk or commit, the client gone) aborts the upload,
    so market-data drops its staged chunks at once instead of at its prune deadline. With an
    ``Idempotency-Key`` whose earlier upload was stored after all (its commit outlived the request),
    begin answers with that dataset and the body is not read."""
    begin = DatasetUploadBegin(
        name=options.name, symbol=options.symbol, request_key=key, format=options.format
    )
    started = await forward_named(
        ctx, SERVICE, "datasets_upload_begin", begin, DatasetUploadStarted, names=BEGIN_NAMES
    )
    if started.existing is not None:
        return started.existing
    try:
        return await _send_and_commit(ctx, request, options, started)
    except BaseException:
        await _abort(ctx, started.upload_id)
        raise


async def _abort(ctx: CallContext, upload_id: str) -> None:
    """Best effort and shielded (a disconnect cancels the request); the prune task is the backstop."""
    abort = DatasetUploadAbort(upload_id=upload_id)
    call = forward_named(
        ctx, SERVICE, "datasets_upload_abort", abort, DatasetUploadAborted, names=UPLOAD_NAMES
    )
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await asyncio.shield(asyncio.ensure_future(call))


async def _send_and_commit(
    ctx: CallContext, request: Request, options: UploadOptions, started: DatasetUploadStarted
) -> DatasetInfo:
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = bytearray()
    received = 0
    seq = 0

    piece_bytes = PARQUET_PIECE_BYTES if options.format == "parquet" else PIECE_BYTES

    async def send(piece: bytes, final: bool) -> None:
        nonlocal seq
        try:
            text = (
                base64.b64encode(piece).decode()
                if options.format == "parquet"
                else decoder.decode(piece, final)
            )
        except UnicodeDecodeError as error:
            raise field_error(
                "body", f"is not UTF-8 text (byte {received - len(piece) + error.start})"
            ) from None
        if "\x00" in text:
            raise field_error("body", "must not contain NUL characters")
        if not text:
            return
        chunk = DatasetUploadChunk(upload_id=started.upload_id, seq=seq, data=text)
        await forward_named(
            ctx, SERVICE, "datasets_upload_chunk", chunk, DatasetUploadProgress, names=UPLOAD_NAMES
        )
        seq += 1

    async for part in request.stream():
        received += len(part)
        if received > started.max_bytes:
            raise UploadTooLarge(
                f"the file is larger than {started.max_bytes} bytes", details={"max_bytes": started.max_bytes}
            )
        pending += part
        while len(pending) >= piece_bytes:
            await send(bytes(pending[:piece_bytes]), final=False)
            del pending[:piece_bytes]
    await send(bytes(pending), final=True)
    commit = DatasetUploadCommit(
        upload_id=started.upload_id, columns=options.columns, timezone=options.timezone
    )
    deadline = gateway_of(request).settings.dataset_commit_timeout_s  # parse + store: seconds per 10 MB
    return await forward_named(
        ctx, SERVICE, "datasets_upload_commit", commit, DatasetInfo, names=UPLOAD_NAMES, timeout_s=deadline
    )


@router.post(
    "",
    response_model=DatasetInfo,
    status_code=201,
    summary="Upload a CSV or Parquet file of OHLCV bars as a named dataset (all or nothing)",
    description="Body: the CSV (`text/csv`) or a Parquet file (`application/vnd.apache.parquet`), "
    "streamed. Columns are found by name (`time|timestamp|"
    "date|datetime|ts|open_time`, `open|o`, …, optional `factor|adj_factor`) or mapped with "
    "`columns` (JSON). Times: ISO 8601 "
    "(an offset wins, else `timezone`) or epoch s/ms/µs/ns. Bad rows → 422 with `details.rows` "
    "and nothing stored. Scope `trade`; takes `Idempotency-Key`.",
    responses=UPLOAD_ERRORS,
    openapi_extra=CSV_BODY,
)
async def upload_dataset(
    *,
    request: Request,
    ctx: Annotated[CallContext, Depends(WRITE)],
    key: Annotated[str | None, Depends(idempotency_key)],
    name: Annotated[str, Query(min_length=1, max_length=100, pattern=NAME_PATTERN, examples=["btc-2023-1h"])],
    symbol: Annotated[str | None, Query(min_length=1, max_length=64, examples=["BTC/USDT"])] = None,
    columns: Annotated[
        str | None, Query(max_length=2000, description='JSON: {"time": "When", "volume": "Qty"}')
    ] = None,
    timezone: Annotated[str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")] = "UTC",
) -> JSONResponse:
    fmt = file_format(request)
    options = UploadOptions(
        name=name, symbol=symbol, columns=parse_columns(columns), timezone=timezone, format=fmt
    )

    async def run() -> tuple[int, DatasetInfo]:
        return 201, await stream_upload(ctx, request, options, key)

    return await run_idempotent(ctx, key, options, run)


ROUTES = (
    Forward(
        "GET", "", READ, SERVICE, "datasets_list", DatasetListRequest, DatasetList,
        name="list_datasets", summary="The caller's datasets", errors=READ_ERRORS,
    ),
    Forward(
        "GET", "/{dataset_id}", READ, SERVICE, "datasets_inspect", DatasetRef, DatasetInspection,
        name="inspect_dataset", path_params=(DATASET_ID,), errors=READ_ERRORS,
        summary="One dataset: range, bar count, spacing and gaps",
    ),
    Forward(
        "DELETE", "/{dataset_id}", TRADE, SERVICE, "datasets_delete", DatasetRef, DatasetDeleted,
        name="delete_dataset", path_params=(DATASET_ID,), errors=WRITE_ERRORS,
        summary="Delete one of the caller's datasets", description="Scope `trade`.",
    ),
    Forward(
        "GET", "/{dataset_id}/bars", READ, SERVICE, "datasets_bars", DatasetBarsRequest, DatasetBarsReply,
        name="dataset_bars", path_params=(DATASET_ID,), errors=READ_ERRORS,
        summary="A dataset's bars as candles, oldest first, paginated (limit 1..5000)",
        query=(
            Param("from_", str | None, FROM, None), Param("to", str | None, TO, None),
            Param("limit", int, Query(ge=1, le=5000), 500), Param("cursor", str | None, CURSOR, None),
        ),
        cursor="md_dataset_bars:{dataset_id}", prepare=time_inputs, names=QUERY_NAMES,
    ),
    Forward(
        "POST", "/{dataset_id}/preprocess", TRADE, SERVICE, "datasets_preprocess", DatasetPreprocess,
        DatasetPreprocessed, name="preprocess_dataset", path_params=(DATASET_ID,), body=PreprocessIn,
        status=201, errors=WRITE_ERRORS, deadline=lambda _: PREPROCESS_DEADLINE_S,
        summary="A new dataset from preprocessing steps (gaps, outliers, adjustment, derived columns)",
        description="Steps in order: `fill_gaps`, `drop_gaps`, `remove_outliers` {rule mad|zscore, k}, "
        "`adjust` {actions[] {ts_ns, split?, dividend?}} — then `returns`, `log_returns`, `indicator` "
        "{indicator, params, source, name?}. The new dataset records its source and steps. Scope `trade`.",
    ),
    Forward(
        "GET", "/{dataset_id}/derived", READ, SERVICE, "datasets_derived", DatasetDerivedRequest,
        DatasetDerived, name="dataset_derived", path_params=(DATASET_ID,), errors=READ_ERRORS,
        summary="A dataset's lineage and derived columns, oldest first, paginated (limit 1..5000)",
        query=(
            Param("from_", str | None, FROM, None), Param("to", str | None, TO, None),
            Param("limit", int, Query(ge=1, le=5000), 1000), Param("cursor", str | None, CURSOR, None),
        ),
        cursor="md_dataset_derived:{dataset_id}", prepare=time_inputs, names=QUERY_NAMES,
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)


@router.post(
    "/{dataset_id}/resample",
    response_model=DatasetInfo,
    status_code=201,
    summary="A new dataset at a coarser timeframe",
    description="Scope `trade`; takes `Idempotency-Key`.",
    responses=WRITE_ERRORS,
)
async def resample_dataset(
    dataset_id: Annotated[str, DATASET_ID.spec],
    body: ResampleIn,
    ctx: Annotated[CallContext, Depends(require(TRADE))],
    key: Annotated[str | None, Depends(idempotency_key)],
) -> JSONResponse:
    request = DatasetResample(dataset_id=dataset_id, timeframe=body.timeframe, name=body.name)

    async def run() -> tuple[int, DatasetInfo]:
        names = {**PATH_NAMES, "timeframe": "body.timeframe", "name": "body.name"}
        deadline = gateway_of(ctx.request).settings.dataset_commit_timeout_s  # reads and stores every bar
        return 201, await forward_named(
            ctx, SERVICE, "datasets_resample", request, DatasetInfo, names=names, timeout_s=deadline
        )

    return await run_idempotent(ctx, key, body, run)
