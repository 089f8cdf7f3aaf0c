"""Dataset preprocessing (``svc.market-data.datasets_preprocess`` / ``datasets_derived``).

A preprocess runs ordered steps over one of the caller's datasets and stores the result as a NEW
dataset that records where it came from (``lineage``: the source dataset and every step with what
it did). Steps that change the bars (gaps, outliers, adjustment) come before the steps that add
derived columns (returns, log returns, indicators), which are stored beside the bars as float
columns (``null`` where undefined, e.g. the first return) and read with ``datasets_derived``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts.market_data import DatasetInfo
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import WireDecimal

DATASET_ID = Field(min_length=1, max_length=64)
COLUMN_NAME = Field(default=None, min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class FillGaps(_Model):
    """Insert a flat bar (open = high = low = close = the previous close, volume 0) at every
    missing interval step."""

    op: Literal["fill_gaps"]


class DropGaps(_Model):
    """Keep only the longest run of bars without a gap (the latest of equally long runs)."""

    op: Literal["drop_gaps"]


class RemoveOutliers(_Model):
    """Remove every bar whose close-to-close simple return r scores above ``k``: ``zscore``:
    |r − mean| / sample std; ``mad``: |r − median| / (1.4826 × median |r − median|). Scores are
    computed once, over the returns before removal (a zero spread removes nothing)."""

    op: Literal["remove_outliers"]
    rule: Literal["zscore", "mad"] = "mad"
    k: float = Field(default=5.0, gt=0, le=1000)


class CorporateAction(_Model):
    ts_ns: int = Field(ge=0, description="ex-date: the first bar at or after it trades adjusted")
    split: WireDecimal | None = Field(default=None, gt=0, examples=["2"], description="2: a 2-for-1 split")
    dividend: WireDecimal | None = Field(default=None, gt=0, examples=["0.5"], description="cash per share")


class Adjust(_Model):
    """Back-adjust prices for splits and cash dividends, from ``actions`` or from a column of the
    dataset (``factor_column``; exactly one of the two). Actions: every bar before an ex-date is
    multiplied by 1/split, or by (1 − dividend / the last close before the ex-date); volumes by split.
    A factor column (e.g. the ``factor`` column of an upload; a multiplier per bar, the newest bar's
    being the reference): each bar's prices are multiplied by its factor / the last bar's factor;
    with ``volume`` ``splits`` (default) each change of the factor is read as a split (a simple
    ratio such as 2, 3/2 or 1/10, within a dividend of < 20 %) and volumes before it are multiplied
    by that split, the rest of the change being a cash dividend, which leaves volume alone (shares
    traded do not change with a dividend); ``unchanged`` keeps volumes as they are. A bar added by
    ``fill_gaps`` takes the factor of the bar before it.
    The cumulative multiplier of each bar is stored as the factor column ``adj_factor``."""

    op: Literal["adjust"]
    actions: list[CorporateAction] = Field(default_factory=list, max_length=1000)
    factor_column: str | None = Field(
        default=None, min_length=1, max_length=40, examples=["factor"], description="a column of the dataset"
    )
    volume: Literal["splits", "unchanged"] = Field(
        default="splits",
        description="factor_column only: volumes × the splits after each bar, or as they are",
    )


class Returns(_Model):
    """Column ``returns`` (or ``name``): close / previous close − 1."""

    op: Literal["returns"]
    name: str | None = COLUMN_NAME


class LogReturns(_Model):
    """Column ``log_returns`` (or ``name``): ln(close / previous close)."""

    op: Literal["log_returns"]
    name: str | None = COLUMN_NAME


class AddIndicator(_Model):
    """Any indicator of the catalog (``GET /v1/catalog/indicators``); one column per output, named
    ``name`` (default: the indicator's) or ``<name>_<output>`` when it has several outputs."""

    op: Literal["indicator"]
    indicator: str = Field(min_length=1, max_length=40, examples=["rsi"])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"window": 14}])
    source: Literal["open", "high", "low", "close", "volume"] = "close"
    name: str | None = COLUMN_NAME


Step = Annotated[
    FillGaps | DropGaps | RemoveOutliers | Adjust | Returns | LogReturns | AddIndicator,
    Field(discriminator="op"),
]


class DatasetPreprocess(_Model):
    dataset_id: str = DATASET_ID
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w.\- ]+$")
    steps: list[Step] = Field(min_length=1, max_length=20)


class AppliedStep(_Model):
    step: dict[str, Any] = Field(description="the step as requested (defaults filled in)")
    effect: dict[str, Any] = Field(examples=[{"bars_added": 3}], description="what it did")


class DatasetPreprocessed(_Model):
    dataset: DatasetInfo
    source_dataset_id: str
    steps: list[AppliedStep]
    columns: list[str] = Field(description="derived columns, in order")


class DatasetDerivedRequest(_Model):
    dataset_id: str = DATASET_ID
    from_ns: int | None = Field(default=None, ge=0)
    to_ns: int | None = Field(default=None, ge=0)
    limit: int = Field(default=1000, ge=1, le=5000)
    cursor: str | None = Field(default=None, max_length=64)


class DatasetDerived(_Model):
    dataset_id: str
    source_dataset_id: str | None = Field(description="null for an uploaded dataset")
    steps: list[AppliedStep] = Field(description="the lineage: what made this dataset from its source")
    open_ns: list[int]
    columns: dict[str, list[float | None]] = Field(description="each derived column over the page's bars")
    next_cursor: str | None = None


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        "market-data", "datasets_preprocess", DatasetPreprocess, DatasetPreprocessed,
        "A new dataset from preprocessing steps over one of the caller's, with its lineage.",
    ),
    RequestContract(
        "market-data", "datasets_derived", DatasetDerivedRequest, DatasetDerived,
        "A dataset's lineage and derived columns, paginated.",
    ),
)  # fmt: skip
