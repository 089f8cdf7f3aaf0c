"""Parquet uploads: the file's base64 text in chunks split anywhere, stored as the same bars as
the equivalent CSV, refused with the same bad-row report, and not-base64 / not-Parquet / too
large refused naming the field."""

from __future__ import annotations

import base64
import io
import uuid

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_datasets import DatasetApi
from tradeloom.market_data.domain.dataset_files import parquet_as_csv
from tradeloom.market_data.domain.datasets import DatasetFormatError, parse_ohlcv_csv
from tradeloom.market_data.store.datasets_store import dataset_bars
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import DatasetUploadBegin, DatasetUploadChunk, DatasetUploadCommit
from tradeloom.shared.errors import ValidationFailed

ALICE = CallerContext(user_id="alice")


def parquet_b64(frame: pd.DataFrame) -> str:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return base64.b64encode(buffer.getvalue()).decode()


def bars_frame(n: int) -> pd.DataFrame:
    opens = [100 + (i % 9) * 0.25 for i in range(n)]
    closes = [o + (0.5 if i % 2 else -0.5) for i, o in enumerate(opens)]
    return pd.DataFrame(
        {
            "Date": pd.date_range("2024-02-27", periods=n, freq="h", tz="UTC"),
            "Open": opens,
            "High": [max(o, c) + 1 for o, c in zip(opens, closes, strict=True)],
            "Low": [min(o, c) - 1 for o, c in zip(opens, closes, strict=True)],
            "Close": closes,
            "Volume": [float(1 + i % 4) for i in range(n)],
        }
    )


async def upload(api: DatasetApi, data: str, pieces: int, name: str | None = None) -> object:
    started = await api.begin(ALICE, DatasetUploadBegin(name=name or uuid.uuid4().hex, format="parquet"))
    step = -(-len(data) // pieces)
    for seq, at in enumerate(range(0, len(data), step)):
        await api.chunk(
            ALICE, DatasetUploadChunk(upload_id=started.upload_id, seq=seq, data=data[at : at + step])
        )
    return await api.commit(ALICE, DatasetUploadCommit(upload_id=started.upload_id))


async def test_parquet_upload_equals_csv_and_is_refused_alike(md_schema: str, db_engine: AsyncEngine) -> None:
    api = DatasetApi(lambda: db_engine, md_schema, 200_000)
    frame = bars_frame(100)
    stored = await upload(api, parquet_b64(frame), pieces=7)  # 7 pieces cut mid-quartet: still one text
    assert stored.bar_count == 100 and stored.interval_ns == 3600 * 10**9  # type: ignore[attr-defined]
    async with db_engine.connect() as connection:
        bars = await dataset_bars(connection, md_schema, stored.dataset_id)  # type: ignore[attr-defined]
    assert bars == parse_ohlcv_csv(frame.to_csv(index=False)).bars
    assert bars[48].open_ns == 1_709_164_800 * 10**9  # 2024-02-29 00:00 UTC, the leap day

    bad = frame.copy()
    bad.loc[3, "High"] = 50.0  # line 5 as CSV: high below max(open, close)
    bad.loc[7, "Volume"] = -1.0  # line 9
    with pytest.raises(ValidationFailed) as caught:
        await upload(api, parquet_b64(bad), pieces=2)
    assert [(r["line"], r["column"]) for r in caught.value.details["rows"]] == [(5, "High"), (9, "Volume")]
    csv_report = parse_ohlcv_csv(bad.to_csv(index=False)).bad_rows
    assert [(r.line, r.column, r.reason) for r in csv_report] == [
        (r["line"], r["column"], r["reason"]) for r in caught.value.details["rows"]
    ]

    for data, why in (("not base64!", "base64"), (base64.b64encode(b"time,open\n").decode(), "Parquet")):
        with pytest.raises(ValidationFailed) as caught:
            await upload(api, data, pieces=1)
        assert caught.value.details["fields"][0]["field"] == "data" and why in str(caught.value)
    with pytest.raises(ValidationFailed) as caught:  # the limit counts the file's bytes, not base64's
        noise = pd.DataFrame({"x": np.random.default_rng(1).random(40_000)})  # 320 kB, incompressible
        await upload(api, parquet_b64(noise), pieces=3)
    assert caught.value.details["fields"][0]["field"] == "data" and "200000 bytes" in str(caught.value)


def test_parquet_as_csv_refusals() -> None:
    with pytest.raises(DatasetFormatError) as caught:
        parquet_as_csv("")
    assert caught.value.field == "data"
