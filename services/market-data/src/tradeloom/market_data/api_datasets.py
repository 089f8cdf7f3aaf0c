"""Dataset request handlers: chunked CSV upload (size-limited, all-or-nothing), list, inspect,
resample, delete. Every dataset and upload belongs to the caller (``tl-user-id``); another
user's id answers not_found."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.domain.candles import rollup
from tradeloom.market_data.domain.dataset_files import file_bytes, parquet_as_csv
from tradeloom.market_data.domain.datasets import DatasetFormatError, parse_ohlcv_csv, typical_interval
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.domain.timeframes import TimeframeError, width_ns
from tradeloom.market_data.store import datasets_store as store
from tradeloom.market_data.store.dataset_derived import save_derived
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import (
    Candle,
    DatasetBarsReply,
    DatasetBarsRequest,
    DatasetDeleted,
    DatasetGap,
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
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user


def no_such_upload(upload_id: str) -> NotFound:
    """The one answer for an unknown, another user's, committed, aborted or pruned upload."""
    return NotFound(
        "no such upload in progress (unknown, already committed, aborted, or pruned after inactivity)",
        details={"upload_id": upload_id},
    )


def info(row: Row[Any]) -> DatasetInfo:
    return DatasetInfo.model_validate({**row._mapping, "dataset_id": str(row.dataset_id)})


class DatasetApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str, max_bytes: int) -> None:
        self._engine = engine
        self.schema = schema
        self.max_bytes = max_bytes

    def handlers(self) -> dict[str, object]:
        return {
            "datasets_upload_begin": self.begin,
            "datasets_upload_chunk": self.chunk,
            "datasets_upload_commit": self.commit,
            "datasets_upload_abort": self.abort,
            "datasets_list": self.list,
            "datasets_inspect": self.inspect,
            "datasets_bars": self.bars,
            "datasets_resample": self.resample,
            "datasets_delete": self.delete,
        }

    async def begin(self, caller: CallerContext, body: DatasetUploadBegin) -> DatasetUploadStarted:
        owner = require_user(caller)
        symbol = None
        if body.symbol is not None:
            try:
                symbol = normalise_symbol(body.symbol)
            except SymbolError as error:
                raise field_invalid("symbol", str(error)) from None
        async with self._engine().begin() as connection:
            if body.request_key is not None:  # a retry of an upload whose commit outlived its caller
                made = await store.dataset_by_request_key(connection, self.schema, owner, body.request_key)
                if made is not None and made.name == body.name:
                    return DatasetUploadStarted(upload_id="", max_bytes=self.max_bytes, existing=info(made))
                if made is not None:
                    raise field_invalid("request_key", f"already made the dataset {made.name!r}")
            if await store.name_taken(connection, self.schema, owner, body.name):
                raise Conflict(f"a dataset named {body.name!r} exists", details={"name": body.name})
            upload_id = await store.begin_upload(
                connection, self.schema, owner, body.name, symbol, body.request_key, body.format
            )
        return DatasetUploadStarted(upload_id=upload_id, max_bytes=self.max_bytes)

    async def chunk(self, caller: CallerContext, body: DatasetUploadChunk) -> DatasetUploadProgress:
        owner = require_user(caller)
        async with self._engine().begin() as connection:
            upload = await store.upload_for_update(connection, self.schema, owner, body.upload_id)
            if upload is None:
                raise no_such_upload(body.upload_id)
            size = file_bytes(body.data, upload.format)
            if body.seq != upload.next_seq:
                raise field_invalid("seq", f"expected chunk {upload.next_seq}, got {body.seq}")
            if upload.received_bytes + size > self.max_bytes:
                raise field_invalid("data", f"the file exceeds the limit of {self.max_bytes} bytes")
            await store.append_chunk(connection, self.schema, body.upload_id, body.seq, body.data, size)
        return DatasetUploadProgress(upload_id=body.upload_id, received_bytes=upload.received_bytes + size)

    async def commit(self, caller: CallerContext, body: DatasetUploadCommit) -> DatasetInfo:
        owner = require_user(caller)
        async with self._engine().begin() as connection:
            upload = await store.upload_for_update(connection, self.schema, owner, body.upload_id)
            if upload is None:
                raise no_such_upload(body.upload_id)
            content = await store.upload_text(connection, self.schema, body.upload_id)
            await store.drop_upload(connection, self.schema, body.upload_id)  # one attempt per upload
        try:  # seconds per 10 MB: off the event loop, so the service keeps answering meanwhile
            if upload.format == "parquet":
                content = await asyncio.to_thread(parquet_as_csv, content)
            parsed = await asyncio.to_thread(parse_ohlcv_csv, content, body.columns, body.timezone)
        except DatasetFormatError as error:
            raise field_invalid(error.field, str(error)) from None
        if parsed.bad_row_count:
            rows = [{"line": b.line, "column": b.column, "reason": b.reason} for b in parsed.bad_rows]
            raise field_invalid(
                "data",
                f"{parsed.bad_row_count} bad rows; nothing was stored",
                rows=rows,
                bad_row_count=parsed.bad_row_count,
            )
        if not parsed.bars:
            raise field_invalid("data", "the file has a header but no rows")
        interval = typical_interval([bar.open_ns for bar in parsed.bars])
        taken = Conflict(f"a dataset named {upload.name!r} exists", details={"name": upload.name})
        try:
            async with self._engine().begin() as connection:
                if await store.name_taken(connection, self.schema, owner, upload.name):
                    raise taken
                row = await store.create_dataset(
                    connection,
                    self.schema,
                    owner,
                    name=upload.name,
                    symbol=upload.symbol,
                    bars=parsed.bars,
                    interval_ns=interval,
                    request_key=upload.request_key,
                )
                if parsed.factors is not None:  # kept as the dataset's column "factor"
                    factors: list[float | None] = list(parsed.factors)
                    await save_derived(
                        connection, self.schema, str(row.dataset_id), None, {"factor": factors}
                    )
        except IntegrityError:  # UNIQUE (owner, name): a concurrent commit of the same name won
            raise taken from None
        return info(row)

    async def abort(self, caller: CallerContext, body: DatasetUploadAbort) -> DatasetUploadAborted:
        owner = require_user(caller)
        async with self._engine().begin() as connection:
            if not await store.abort_upload(connection, self.schema, owner, body.upload_id):
                raise no_such_upload(body.upload_id)
        return DatasetUploadAborted(upload_id=body.upload_id, aborted=True)

    async def list(self, caller: CallerContext, _: DatasetListRequest) -> DatasetList:
        owner = require_user(caller)
        async with self._engine().connect() as connection:
            rows = await store.list_datasets(connection, self.schema, owner)
        return DatasetList(datasets=[info(row) for row in rows])

    async def _get(self, connection: Any, owner: str, dataset_id: str) -> Row[Any]:
        row = await store.dataset_info(connection, self.schema, owner, dataset_id)
        if row is None:
            raise NotFound("no such dataset", details={"dataset_id": dataset_id})
        return row

    async def inspect(self, caller: CallerContext, body: DatasetRef) -> DatasetInspection:
        owner = require_user(caller)
        async with self._engine().connect() as connection:
            row = await self._get(connection, owner, body.dataset_id)
            gaps: list[Row[Any]] = []
            total = 0
            if row.interval_ns:
                gaps, total = await store.dataset_gaps(
                    connection, self.schema, body.dataset_id, row.interval_ns
                )
        return DatasetInspection(
            **info(row).model_dump(),
            gaps=[DatasetGap.model_validate(dict(g._mapping)) for g in gaps],
            gap_count=total,
        )

    async def bars(self, caller: CallerContext, body: DatasetBarsRequest) -> DatasetBarsReply:
        """A page of bars in the candles op's shape and cursor scheme (cursor = last ``open_ns``)."""
        owner = require_user(caller)
        if body.from_ns is not None and body.to_ns is not None and body.from_ns > body.to_ns:
            raise field_invalid("from_ns", "must not be after to_ns")
        after = None
        if body.cursor is not None:
            if not body.cursor.isdigit():
                raise field_invalid("cursor", "not a cursor this service returned")
            after = int(body.cursor)
        async with self._engine().connect() as connection:
            row = await self._get(connection, owner, body.dataset_id)
            rows = await store.dataset_bars_page(
                connection,
                self.schema,
                body.dataset_id,
                from_ns=body.from_ns,
                to_ns=body.to_ns,
                after_ns=after,
                limit=body.limit,
            )
        page = rows[: body.limit]
        return DatasetBarsReply(
            dataset_id=body.dataset_id,
            interval_ns=row.interval_ns,
            start_ns=row.start_ns,
            end_ns=row.end_ns,
            candles=[Candle.model_validate(dict(r._mapping)) for r in page],
            next_cursor=str(page[-1].open_ns) if len(rows) > body.limit else None,
        )

    async def resample(self, caller: CallerContext, body: DatasetResample) -> DatasetInfo:
        owner = require_user(caller)
        try:
            width = width_ns(body.timeframe)
        except TimeframeError as error:
            raise field_invalid("timeframe", str(error)) from None
        async with self._engine().begin() as connection:
            row = await self._get(connection, owner, body.dataset_id)
            if row.interval_ns and (width < row.interval_ns or width % row.interval_ns):
                raise field_invalid(
                    "timeframe", f"must be a multiple of the dataset's {row.interval_ns} ns bars"
                )
            name = body.name or f"{row.name}-{body.timeframe}"
            if await store.name_taken(connection, self.schema, owner, name):
                raise Conflict(f"a dataset named {name!r} exists", details={"name": name})
            bars = rollup(await store.dataset_bars(connection, self.schema, body.dataset_id), body.timeframe)
            created = await store.create_dataset(
                connection, self.schema, owner, name=name, symbol=row.symbol, bars=bars, interval_ns=width
            )
        return info(created)

    async def delete(self, caller: CallerContext, body: DatasetRef) -> DatasetDeleted:
        owner = require_user(caller)
        async with self._engine().begin() as connection:
            if not await store.delete_dataset(connection, self.schema, owner, body.dataset_id):
                raise NotFound("no such dataset", details={"dataset_id": body.dataset_id})
        return DatasetDeleted(dataset_id=body.dataset_id, deleted=True)
