"""``datasets_preprocess`` and ``datasets_derived``: a new dataset from preprocessing steps over
one of the caller's (bars changed by gap, outlier and adjustment steps; derived columns added),
recording its lineage; and that lineage with the derived columns, page by page."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_datasets import info
from tradeloom.market_data.domain.preprocess import Frame, StepError, run_steps
from tradeloom.market_data.store import dataset_derived as derived
from tradeloom.market_data.store import datasets_store as store
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_preprocess import (
    AppliedStep,
    DatasetDerived,
    DatasetDerivedRequest,
    DatasetPreprocess,
    DatasetPreprocessed,
)
from tradeloom.shared.errors import Conflict, NotFound, field_invalid, require_user

INT64_MAX = 2**63 - 1


class PreprocessApi:
    def __init__(self, engine: Callable[[], AsyncEngine], schema: str) -> None:
        self._engine = engine
        self.schema = schema

    def handlers(self) -> dict[str, object]:
        return {"datasets_preprocess": self.preprocess, "datasets_derived": self.derived}

    async def _source(self, connection: Any, owner: str, dataset_id: str) -> Any:
        row = await store.dataset_info(connection, self.schema, owner, dataset_id)
        if row is None:
            raise NotFound("no such dataset", details={"dataset_id": dataset_id})
        return row

    async def preprocess(self, caller: CallerContext, body: DatasetPreprocess) -> DatasetPreprocessed:
        owner = require_user(caller)
        steps = [step.model_dump(mode="json") for step in body.steps]
        async with self._engine().connect() as connection:
            source = await self._source(connection, owner, body.dataset_id)
            bars = await store.dataset_bars(connection, self.schema, body.dataset_id)
            own = await derived.column_slices(connection, self.schema, body.dataset_id, 1, len(bars))
        times = [bar.open_ns for bar in bars]
        columns = {name: dict(zip(times, values, strict=True)) for name, values in own.items()}
        frame = Frame(bars, source.interval_ns, source_columns=columns)
        try:  # indicators over 100k bars take a while: off the event loop
            effects = await asyncio.to_thread(run_steps, frame, steps)
        except StepError as error:
            raise field_invalid(error.field, str(error)) from None
        name = body.name or f"{source.name}-pre"
        applied = [{"step": step, "effect": effect} for step, effect in zip(steps, effects, strict=True)]
        async with self._engine().begin() as connection:
            if await store.name_taken(connection, self.schema, owner, name):
                raise Conflict(f"a dataset named {name!r} exists", details={"name": name})
            row = await store.create_dataset(
                connection, self.schema, owner, name=name, symbol=source.symbol,
                bars=frame.bars, interval_ns=source.interval_ns,
            )  # fmt: skip
            lineage = {"source_dataset_id": body.dataset_id, "steps": applied}
            await derived.save_derived(connection, self.schema, str(row.dataset_id), lineage, frame.columns)
        return DatasetPreprocessed(
            dataset=info(row),
            source_dataset_id=body.dataset_id,
            steps=[AppliedStep.model_validate(a) for a in applied],
            columns=list(frame.columns),
        )

    async def derived(self, caller: CallerContext, body: DatasetDerivedRequest) -> DatasetDerived:
        owner = require_user(caller)
        if body.from_ns is not None and body.to_ns is not None and body.from_ns > body.to_ns:
            raise field_invalid("from_ns", "must not be after to_ns")
        if body.cursor is not None and not body.cursor.isdigit():
            raise field_invalid("cursor", "not a cursor this service returned")
        after = int(body.cursor) if body.cursor is not None else -1
        async with self._engine().connect() as connection:
            await self._source(connection, owner, body.dataset_id)
            lineage = await derived.lineage(connection, self.schema, body.dataset_id) or {}
            positions = await derived.page_positions(
                connection, self.schema, body.dataset_id,
                lo=body.from_ns or 0, hi=body.to_ns if body.to_ns is not None else INT64_MAX,
                after=after, limit=body.limit + 1,
            )  # fmt: skip
            page = positions[: body.limit]
            columns = (
                await derived.column_slices(connection, self.schema, body.dataset_id, page[0][0], page[-1][0])
                if page
                else {}
            )
        return DatasetDerived(
            dataset_id=body.dataset_id,
            source_dataset_id=lineage.get("source_dataset_id"),
            steps=[AppliedStep.model_validate(a) for a in lineage.get("steps", [])],
            open_ns=[ts for _, ts in page],
            columns=columns,
            next_cursor=str(page[-1][1]) if len(positions) > body.limit else None,
        )
