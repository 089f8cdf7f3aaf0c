"""Dataset preprocessing with worked numbers: gaps filled flat or dropped to the longest run,
outliers by the MAD and z-score rules, split and dividend back-adjustment with its factor column,
returns, log returns and a catalog indicator; then the service ops: a new dataset with its lineage
and derived columns read page by page, the source untouched, bad steps refused naming the field."""

from __future__ import annotations

import itertools
import math
import uuid
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_datasets import DatasetApi
from tradeloom.market_data.api_preprocess import PreprocessApi
from tradeloom.market_data.domain.candles import Bar
from tradeloom.market_data.domain.preprocess import Frame, StepError, run_steps
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import DatasetUploadBegin, DatasetUploadChunk, DatasetUploadCommit
from tradeloom.shared.contracts.market_data_preprocess import DatasetDerivedRequest, DatasetPreprocess
from tradeloom.shared.errors import Conflict, NotFound, ValidationFailed

H = 3600 * 10**9
ALICE = CallerContext(user_id="alice")


def bars(closes: list[int | str], hours: list[int] | None = None) -> list[Bar]:
    hours = hours if hours is not None else list(range(len(closes)))
    return [
        Bar(h * H, Decimal(c), Decimal(c) + 1, Decimal(c) - 1, Decimal(c), Decimal(10), 0)
        for h, c in zip(hours, closes, strict=True)
    ]


def test_gaps_filled_flat_or_dropped_to_the_longest_run() -> None:
    frame = Frame(bars([10, 11, 12, 15], [0, 1, 2, 5]), H)
    assert run_steps(frame, [{"op": "fill_gaps"}]) == [{"bars_added": 2}]
    assert [(b.open_ns // H, b.open, b.high, b.low, b.close, b.volume) for b in frame.bars[2:5]] == [
        (2, 12, 13, 11, 12, 10), (3, 12, 12, 12, 12, 0), (4, 12, 12, 12, 12, 0),
    ]  # fmt: skip
    frame = Frame(bars([1, 2, 3, 4, 5], [0, 1, 3, 4, 5]), H)
    assert run_steps(frame, [{"op": "drop_gaps"}]) == [
        {"bars_removed": 2, "kept_from_ns": 3 * H, "kept_to_ns": 5 * H}
    ]


def test_outliers_by_mad_and_zscore_on_returns() -> None:
    closes = [100, 101, 100, 101, 100, 150, 100, 101]
    # returns .01 −.0099 .01 −.0099 .5 −.3333 .01: median .01, MAD .0199 → ×1.4826 = .0295;
    # scores 0 .674 0 .674 16.6 11.6 0 → k = 5 removes the spike (hour 5) and the bar after it (hour 6)
    frame = Frame(bars(closes), H)
    assert run_steps(frame, [{"op": "remove_outliers", "rule": "mad", "k": 5}]) == [
        {"bars_removed": 2, "removed_ns": [5 * H, 6 * H]}
    ]
    assert [int(b.close) for b in frame.bars] == [100, 101, 100, 101, 100, 101]
    # z-scores (mean .02527, sample std .24397): .063 .144 .063 .144 1.946 1.470 .063
    frame = Frame(bars(closes), H)
    assert run_steps(frame, [{"op": "remove_outliers", "rule": "zscore", "k": 1.9}])[0]["removed_ns"] == [
        5 * H
    ]
    frame = Frame(bars(closes), H)
    assert run_steps(frame, [{"op": "remove_outliers", "rule": "zscore", "k": 2}])[0]["bars_removed"] == 0


def test_split_and_dividend_back_adjustment() -> None:
    frame = Frame(bars([100, 102, 51, 52]), H)
    actions = [
        {"ts_ns": 2 * H, "split": "2"},
        {"ts_ns": 3 * H, "dividend": "1"},
        {"ts_ns": 9 * H, "split": "3"},
    ]
    assert run_steps(frame, [{"op": "adjust", "actions": actions}]) == [{"actions_applied": 2}]
    # bars 0, 1: ÷2 (split) × 50/51 (1 − 1/51, the dividend over the last close before it); bar 2: × 50/51
    assert [b.close for b in frame.bars] == [
        Decimal("49.0196078431"),
        Decimal("50"),
        Decimal("50"),
        Decimal("52"),
    ]
    assert frame.bars[0].volume == 20 and frame.bars[2].volume == 10  # volumes × split only
    assert frame.columns["adj_factor"] == pytest.approx([0.5 * 50 / 51, 0.5 * 50 / 51, 50 / 51, 1.0])
    with pytest.raises(StepError):
        run_steps(
            Frame(bars([100, 102]), H), [{"op": "adjust", "actions": [{"ts_ns": H, "dividend": "100"}]}]
        )


def test_derived_columns_and_step_order() -> None:
    frame = Frame(bars([100, 110, 99]), H)
    steps = [
        {"op": "returns"},
        {"op": "log_returns", "name": "lr"},
        {"op": "indicator", "indicator": "sma", "params": {"window": 2}, "source": "close"},
        {
            "op": "indicator",
            "indicator": "bollinger",
            "params": {"window": 2},
            "source": "close",
            "name": "bb",
        },
    ]
    effects = run_steps(frame, steps)
    assert effects[3] == {"columns": ["bb_lower", "bb_middle", "bb_upper"]}
    assert frame.columns["returns"] == [None, pytest.approx(0.1), pytest.approx(-0.1)]
    assert frame.columns["lr"] == [None, pytest.approx(math.log(1.1)), pytest.approx(math.log(0.9))]
    assert frame.columns["sma"] == [None, 105.0, 104.5]
    assert frame.columns["bb_upper"] == [None, 115.0, 115.5]  # 105 + 2 × 5, 104.5 + 2 × 5.5 (population σ)
    with pytest.raises(StepError) as caught:
        run_steps(Frame(bars([1, 2]), H), [{"op": "returns"}, {"op": "fill_gaps"}])
    assert caught.value.field == "steps[1].op"
    with pytest.raises(StepError) as caught:
        run_steps(
            Frame(bars([1, 2]), H),
            [{"op": "indicator", "indicator": "nope", "params": {}, "source": "close"}],
        )
    assert caught.value.field == "steps[0].indicator"


async def test_preprocess_ops_make_a_new_dataset_with_lineage(md_schema: str, db_engine: AsyncEngine) -> None:
    datasets = DatasetApi(lambda: db_engine, md_schema, 1_000_000)
    api = PreprocessApi(lambda: db_engine, md_schema)
    rows = [(0, 100), (1, 101), (2, 100), (4, 101), (5, 100), (6, 150), (7, 100), (8, 101)]  # hour 3 missing
    csv = "time,open,high,low,close,volume\n" + "".join(
        f"{h * 3600},{c},{c + 1},{c - 1},{c},5\n" for h, c in rows
    )
    started = await datasets.begin(ALICE, DatasetUploadBegin(name=f"src-{uuid.uuid4().hex[:6]}"))
    await datasets.chunk(ALICE, DatasetUploadChunk(upload_id=started.upload_id, seq=0, data=csv))
    source = await datasets.commit(ALICE, DatasetUploadCommit(upload_id=started.upload_id))
    steps = [
        {"op": "fill_gaps"},
        {"op": "remove_outliers", "rule": "mad", "k": 5},
        {"op": "returns"},
        {"op": "indicator", "indicator": "sma", "params": {"window": 3}},
    ]
    made = await api.preprocess(
        ALICE, DatasetPreprocess.model_validate({"dataset_id": source.dataset_id, "steps": steps})
    )
    assert (
        made.dataset.bar_count == 7 and made.dataset.name == f"{source.name}-pre"
    )  # 8 + 1 filled − 2 outliers
    assert [s.effect for s in made.steps][:2] == [
        {"bars_added": 1},
        {"bars_removed": 2, "removed_ns": [6 * H, 7 * H]},
    ]
    assert made.columns == ["returns", "sma"] and made.source_dataset_id == source.dataset_id

    pages, cursor = [], None
    while True:
        page = await api.derived(
            ALICE, DatasetDerivedRequest(dataset_id=made.dataset.dataset_id, limit=3, cursor=cursor)
        )
        pages.append(page)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [len(p.open_ns) for p in pages] == [3, 3, 1]
    assert [t for p in pages for t in p.open_ns] == [h * H for h in (0, 1, 2, 3, 4, 5, 8)]
    closes = [100, 101, 100, 100, 101, 100, 101]
    assert [v for p in pages for v in p.columns["returns"]] == [None] + [
        pytest.approx(b / a - 1) for a, b in itertools.pairwise(closes)
    ]
    assert [v for p in pages for v in p.columns["sma"]][2:4] == [
        pytest.approx(301 / 3),
        pytest.approx(301 / 3),
    ]
    assert pages[0].steps[0].step == {"op": "fill_gaps"} and pages[0].source_dataset_id == source.dataset_id
    window = await api.derived(
        ALICE, DatasetDerivedRequest(dataset_id=made.dataset.dataset_id, from_ns=4 * H, to_ns=5 * H)
    )
    assert window.open_ns == [4 * H, 5 * H] and window.columns["returns"] == [
        pytest.approx(0.01),
        pytest.approx(-1 / 101),
    ]
    plain = await api.derived(ALICE, DatasetDerivedRequest(dataset_id=source.dataset_id))
    assert (
        plain.source_dataset_id is None
        and plain.steps == []
        and plain.columns == {}
        and len(plain.open_ns) == 8
    )

    async def refused(body: dict[str, object], field: str) -> None:
        with pytest.raises(ValidationFailed) as caught:
            await api.preprocess(
                ALICE, DatasetPreprocess.model_validate({"dataset_id": source.dataset_id, **body})
            )
        assert caught.value.details["fields"][0]["field"] == field, caught.value

    await refused(
        {"name": "x1", "steps": [{"op": "indicator", "indicator": "rsi", "params": {"window": 0}}]},
        "steps[0].params.window",
    )
    await refused({"name": "x2", "steps": [{"op": "log_returns"}, {"op": "drop_gaps"}]}, "steps[1].op")
    with pytest.raises(Conflict):
        await api.preprocess(
            ALICE, DatasetPreprocess.model_validate({"dataset_id": source.dataset_id, "steps": steps})
        )
    with pytest.raises(NotFound):
        await api.preprocess(
            CallerContext(user_id="bob"),
            DatasetPreprocess.model_validate({"dataset_id": source.dataset_id, "steps": steps}),
        )
    with pytest.raises(ValidationFailed):
        await api.derived(ALICE, DatasetDerivedRequest(dataset_id=source.dataset_id, cursor="x"))
