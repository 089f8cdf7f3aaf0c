"""A factor column taken from an upload: parsed and checked row by row, kept as the dataset's
``factor`` column, and used by the ``adjust`` step (``factor_column``) to back-adjust prices."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_datasets import DatasetApi
from tradeloom.market_data.api_preprocess import PreprocessApi
from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.datasets import parse_ohlcv_csv
from tradeloom.market_data.domain.preprocess import Frame, StepError, run_steps
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import (
    DatasetBarsRequest,
    DatasetUploadBegin,
    DatasetUploadChunk,
    DatasetUploadCommit,
)
from tradeloom.shared.contracts.market_data_preprocess import DatasetDerivedRequest, DatasetPreprocess
from tradeloom.shared.errors import ValidationFailed

H = 3600 * 10**9
ALICE = CallerContext(user_id="alice")
HEADER = "time,open,high,low,close,volume"


def test_the_factor_column_is_parsed_by_alias_or_mapping_and_checked_per_row() -> None:
    text = f"{HEADER},adj_factor\n0,10,11,9,10,5,0.5\n3600,10,11,9,10,5,1\n"
    assert parse_ohlcv_csv(text).factors == [0.5, 1.0]
    assert parse_ohlcv_csv(f"{HEADER}\n0,10,11,9,10,5\n").factors is None
    mapped = parse_ohlcv_csv(f"{HEADER},cfac\n0,10,11,9,10,5,2\n", {"factor": "cfac"})
    assert mapped.factors == [2.0]
    bad = parse_ohlcv_csv(f"{HEADER},factor\n0,10,11,9,10,5,0\n3600,10,11,9,10,5,x\n7200,10,11,9,10,5,1\n")
    assert [(b.line, b.column) for b in bad.bad_rows] == [(2, "factor"), (3, "factor")]
    assert bad.factors == [1.0] and len(bad.bars) == 1


def bars(hours: list[int]) -> list[Bar]:
    return [Bar(h * H, Decimal(100), Decimal(102), Decimal(98), Decimal(100), Decimal(10), 0) for h in hours]


def test_adjust_by_a_factor_column_relative_to_the_last_bar_filled_bars_take_the_previous() -> None:
    factors: dict[int, float | None] = {0: 0.25, H: 0.5, 2 * H: 1.0, 4 * H: 1.0}
    frame = Frame(bars([0, 1, 2, 4]), H, source_columns={"factor": factors})
    effects = run_steps(
        frame, [{"op": "fill_gaps"}, {"op": "adjust", "factor_column": "factor", "actions": []}]
    )
    assert effects[1]["bars_adjusted"] == 2 and effects[1]["unclassified_changes"] == 0
    assert [b.close for b in frame.bars] == [
        Decimal(25),
        Decimal(50),
        Decimal(100),
        Decimal(100),
        Decimal(100),
    ]
    assert [b.high for b in frame.bars][:2] == [Decimal("25.5"), Decimal(51)]
    # each factor step is a 2-for-1 split: volumes before it doubled (the filled bar had none)
    assert [b.volume for b in frame.bars] == [Decimal(40), Decimal(20), Decimal(10), Decimal(0), Decimal(10)]
    assert effects[1]["splits"] == [{"ts_ns": H, "ratio": "2"}, {"ts_ns": 2 * H, "ratio": "2"}]
    assert frame.columns["adj_factor"] == [0.25, 0.5, 1.0, 1.0, 1.0]
    for step, field in (
        ({"op": "adjust", "actions": []}, "steps[0].actions"),
        (
            {"op": "adjust", "factor_column": "factor", "actions": [{"ts_ns": H, "split": "2"}]},
            "steps[0].actions",
        ),
        ({"op": "adjust", "factor_column": "cfac", "actions": []}, "steps[0].factor_column"),
    ):
        with pytest.raises(StepError) as caught:
            run_steps(Frame(bars([0, 1]), H, source_columns={"factor": factors}), [step])
        assert caught.value.field == field


async def test_an_uploaded_factor_column_is_kept_and_adjusts_a_preprocessed_copy(
    md_schema: str, db_engine: AsyncEngine
) -> None:
    datasets = DatasetApi(lambda: db_engine, md_schema, 1_000_000)
    api = PreprocessApi(lambda: db_engine, md_schema)
    csv = f"{HEADER},factor\n" + "".join(
        f"{h * 3600},100,102,98,100,5,{f}\n" for h, f in enumerate([0.5, 0.5, 1, 1])
    )
    started = await datasets.begin(ALICE, DatasetUploadBegin(name=f"f-{uuid.uuid4().hex[:6]}"))
    await datasets.chunk(ALICE, DatasetUploadChunk(upload_id=started.upload_id, seq=0, data=csv))
    source = await datasets.commit(ALICE, DatasetUploadCommit(upload_id=started.upload_id))
    own = await api.derived(ALICE, DatasetDerivedRequest(dataset_id=source.dataset_id))
    assert (own.columns, own.source_dataset_id, own.steps) == ({"factor": [0.5, 0.5, 1.0, 1.0]}, None, [])

    step = {"op": "adjust", "factor_column": "factor"}
    made = await api.preprocess(
        ALICE, DatasetPreprocess.model_validate({"dataset_id": source.dataset_id, "steps": [step]})
    )
    assert made.steps[0].effect == {
        "factor_column": "factor",
        "bars_adjusted": 2,
        "splits": [{"ts_ns": 2 * H, "ratio": "2"}],
        "unclassified_changes": 0,
    }
    page = await datasets.bars(ALICE, DatasetBarsRequest(dataset_id=made.dataset.dataset_id))
    assert [str(c.close) for c in page.candles] == ["50", "50", "100", "100"]
    assert [str(c.volume) for c in page.candles] == ["10", "10", "5", "5"]  # the 2-for-1 split
    with pytest.raises(ValidationFailed) as caught:
        await api.preprocess(
            ALICE,
            DatasetPreprocess.model_validate(
                {"dataset_id": source.dataset_id, "steps": [{"op": "adjust", "factor_column": "cfac"}]}
            ),
        )
    assert caught.value.details["fields"][0]["field"] == "steps[0].factor_column"
