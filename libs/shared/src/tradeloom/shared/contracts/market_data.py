"""Events and requests of market-data (md.evt.*, svc.market-data.*).

Symbols travel as ``BTC/USDT`` (subject tokens use ``BTC-USDT``); prices and amounts are decimal
strings; market-data timestamps are integer nanoseconds since the epoch (UTC).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.contracts import market_data_funding as fd
from tradeloom.shared.contracts import market_data_options as mo
from tradeloom.shared.contracts.market_data_columns import TIMEFRAME, CandleColumnsReply, CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import CandlesPackedHeader
from tradeloom.shared.contracts.market_data_instruments import Instrument as Instrument
from tradeloom.shared.contracts.market_data_instruments import InstrumentKind as InstrumentKind
from tradeloom.shared.contracts.market_data_instruments import InstrumentsReply as InstrumentsReply
from tradeloom.shared.contracts.market_data_instruments import InstrumentsRequest as InstrumentsRequest
from tradeloom.shared.contracts.market_data_instruments import OptionExpiriesReply, OptionExpiriesRequest
from tradeloom.shared.contracts.spec import EventContract, RequestContract
from tradeloom.shared.contracts.wire import WireDecimal
from tradeloom.shared.envelope import Event

Side = Literal["buy", "sell"]
SYMBOL = Field(min_length=3, max_length=64, examples=["BTC/USDT"])
VENUE = Field(
    default=None, min_length=1, max_length=32, examples=["sim"], description="default venue if omitted"
)
TS_NS = Field(ge=0, examples=[1_704_164_645_000_000_000], description="nanoseconds since the epoch, UTC")
PRICE = Field(examples=["65000.5"], allow_inf_nan=False)
AMOUNT = Field(examples=["0.25"], allow_inf_nan=False)


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class _Reply(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


# --------------------------------------------------------------------------------------- events
class TradeTick(BaseModel):
    """One trade as the venue reported it; ``trade_id`` is the venue's id (dedupe key)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    trade_id: str = Field(min_length=1, max_length=64, examples=["123456789"])
    ts_ns: int = TS_NS
    price: WireDecimal = PRICE
    amount: WireDecimal = AMOUNT
    side: Side = Field(examples=["buy"], description="taker side")


class TradesIngested(Event):
    """Trades of one symbol (a batch of one or more, in venue order) on
    ``md.evt.trade.v1.<venue>.<SYMBOL-TOKEN>``. The envelope id is
    ``market_data_id(venue, symbol, trade_id)`` for one trade and
    ``market_data_id(venue, symbol, "<first>..<last>")`` for a batch, so a re-sent batch dedupes."""

    domain: ClassVar[str] = "md"
    name: ClassVar[str] = "trade"
    major: ClassVar[int] = 1

    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    trades: list[TradeTick] = Field(min_length=1, max_length=5000)


class CandleClosed(Event):
    """A candle closed (event time passed its end plus the lateness tolerance), once per candle and
    timeframe, in order, on ``md.evt.candle_closed.v1.<venue>.<SYMBOL-TOKEN>.<tf>``."""

    domain: ClassVar[str] = "md"
    name: ClassVar[str] = "candle_closed"
    major: ClassVar[int] = 1

    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    timeframe: str = Field(examples=["1m"])
    open_ns: int = TS_NS
    close_ns: int = TS_NS
    open: WireDecimal = PRICE
    high: WireDecimal = PRICE
    low: WireDecimal = PRICE
    close: WireDecimal = PRICE
    volume: WireDecimal = AMOUNT
    trade_count: int = Field(ge=0, examples=[42])


class BookLevel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    price: WireDecimal = PRICE
    amount: WireDecimal = AMOUNT


class BookSnapshot(Event):
    """Top-N L2 snapshot, published on change at a bounded rate on ``md.evt.book.v1.<venue>.<SYMBOL-TOKEN>``."""

    domain: ClassVar[str] = "md"
    name: ClassVar[str] = "book"
    major: ClassVar[int] = 1

    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    ts_ns: int = TS_NS
    seq: int = Field(ge=0, examples=[7])
    bids: list[BookLevel] = Field(max_length=1000, description="best first")
    asks: list[BookLevel] = Field(max_length=1000, description="best first")


# ------------------------------------------------------------------------------ market requests
class Candle(_Reply):
    open_ns: int = TS_NS
    open: WireDecimal = PRICE
    high: WireDecimal = PRICE
    low: WireDecimal = PRICE
    close: WireDecimal = PRICE
    volume: WireDecimal = AMOUNT
    trade_count: int = Field(ge=0, examples=[42])


class CandlesRequest(_Request):
    symbol: str = SYMBOL
    venue: str | None = VENUE
    timeframe: str = TIMEFRAME
    from_ns: int | None = Field(default=None, ge=0, examples=[1_704_067_200_000_000_000])
    to_ns: int | None = Field(default=None, ge=0, examples=[1_704_153_600_000_000_000])
    limit: int = Field(default=500, ge=1, le=5000)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class CandlesReply(_Reply):
    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    timeframe: str = Field(examples=["1h"])
    candles: list[Candle]
    next_cursor: str | None = None


class SymbolRequest(_Request):
    symbol: str = SYMBOL
    venue: str | None = VENUE


class LatestPriceReply(_Reply):
    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    price: WireDecimal = PRICE
    ts_ns: int = TS_NS
    trade_id: str = Field(examples=["123456789"])


class TradesRequest(_Request):
    symbol: str = SYMBOL
    venue: str | None = VENUE
    limit: int = Field(default=100, ge=1, le=1000)


class TradesReply(_Reply):
    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    trades: list[TradeTick] = Field(description="newest first")


class OrderBookRequest(_Request):
    symbol: str = SYMBOL
    venue: str | None = VENUE
    depth: int = Field(default=20, ge=1, le=500, description="levels per side")
    band_bps: WireDecimal = Field(default=Decimal(10), gt=0, le=10_000, examples=["10"])


class BookAnalytics(_Reply):
    best_bid: WireDecimal | None = PRICE
    best_ask: WireDecimal | None = PRICE
    spread: WireDecimal | None = PRICE
    spread_bps: WireDecimal | None = Field(default=None, examples=["0.8"])
    mid: WireDecimal | None = PRICE
    microprice: WireDecimal | None = PRICE
    imbalance: WireDecimal | None = Field(
        default=None, examples=["0.12"], description="(bid−ask)/(bid+ask) top level"
    )
    band_bps: WireDecimal = Field(examples=["10"])
    bid_depth_in_band: WireDecimal = AMOUNT
    ask_depth_in_band: WireDecimal = AMOUNT


class OrderBookReply(_Reply):
    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    ts_ns: int = TS_NS
    seq: int = Field(ge=0, examples=[7])
    bids: list[BookLevel]
    asks: list[BookLevel]
    analytics: BookAnalytics


class Stats24hReply(_Reply):
    venue: str = Field(examples=["sim"])
    symbol: str = Field(examples=["BTC/USDT"])
    from_ns: int = TS_NS
    to_ns: int = TS_NS
    open: WireDecimal | None = PRICE
    high: WireDecimal | None = PRICE
    low: WireDecimal | None = PRICE
    last: WireDecimal | None = PRICE
    change: WireDecimal | None = PRICE
    change_pct: WireDecimal | None = Field(default=None, examples=["1.25"])
    volume: WireDecimal = AMOUNT
    trade_count: int = Field(ge=0, examples=[1200])


class OverviewRequest(_Request):
    venue: str | None = VENUE


class OverviewItem(Stats24hReply):
    volatility: float | None = Field(default=None, examples=[0.62], description="annualised, from 1m closes")


class OverviewReply(_Reply):
    items: list[OverviewItem]


# ----------------------------------------------------------------------------- dataset requests
class DatasetUploadBegin(_Request):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[\w.\- ]+$", examples=["btc-2023-1h"])
    symbol: str | None = Field(default=None, max_length=64, examples=["BTC/USDT"])
    request_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="the client's Idempotency-Key, kept with the dataset",
    )
    format: Literal["csv", "parquet"] = Field(default="csv", description="parquet: the chunks carry base64")


class DatasetUploadStarted(_Reply):
    upload_id: str = Field(
        examples=["0190f0a0-0000-7000-8000-000000000000"], description="empty with existing"
    )
    max_bytes: int = Field(examples=[52_428_800])
    existing: DatasetInfo | None = Field(default=None, description="the dataset request_key already made")


class DatasetUploadChunk(_Request):
    upload_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=0, description="0, 1, 2… in order")
    data: str = Field(max_length=700_000, description="the next piece of the CSV text (Parquet: base64 text)")


class DatasetUploadProgress(_Reply):
    upload_id: str
    received_bytes: int = Field(ge=0)


class DatasetUploadCommit(_Request):
    upload_id: str = Field(min_length=1, max_length=64)
    columns: dict[str, str] | None = Field(
        default=None, description="our column (time/open/high/low/close/volume) → the file's header"
    )
    timezone: str = Field(default="UTC", max_length=64, description="for timestamps without an offset")


class DatasetUploadAbort(_Request):
    """Abandon one of the caller's uploads in progress: its staged chunks are deleted at once."""

    upload_id: str = Field(min_length=1, max_length=64)


class DatasetUploadAborted(_Reply):
    upload_id: str
    aborted: bool = Field(description="always true: an unknown or another user's upload is not_found")


class DatasetRef(_Request):
    dataset_id: str = Field(min_length=1, max_length=64)


class DatasetResample(_Request):
    dataset_id: str = Field(min_length=1, max_length=64)
    timeframe: str = Field(examples=["1h"])
    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[\w.\- ]+$")


class DatasetListRequest(_Request):
    pass


class DatasetBarsRequest(_Request):
    """A page of a dataset's bars in time order (``from_ns``/``to_ns`` inclusive)."""

    dataset_id: str = Field(min_length=1, max_length=64)
    from_ns: int | None = Field(default=None, ge=0, examples=[1_704_067_200_000_000_000])
    to_ns: int | None = Field(default=None, ge=0, examples=[1_704_153_600_000_000_000])
    limit: int = Field(default=500, ge=1, le=5000)
    cursor: str | None = Field(default=None, max_length=64, description="next_cursor of the previous page")


class DatasetBarsReply(_Reply):
    dataset_id: str
    interval_ns: int | None = Field(default=None, description="the dataset's most common bar spacing")
    start_ns: int | None = Field(default=None, description="the dataset's first bar")
    end_ns: int | None = Field(default=None, description="the dataset's last bar")
    candles: list[Candle] = Field(description="trade_count is 0 (datasets carry no trade counts)")
    next_cursor: str | None = None


class DatasetInfo(_Reply):
    dataset_id: str
    name: str = Field(examples=["btc-2023-1h"])
    symbol: str | None = None
    bar_count: int = Field(ge=0)
    start_ns: int | None = None
    end_ns: int | None = None
    interval_ns: int | None = Field(default=None, description="most common spacing between bars")
    created_at: datetime


class DatasetGap(_Reply):
    after_ns: int
    before_ns: int
    missing_bars: int


class DatasetInspection(DatasetInfo):
    gaps: list[DatasetGap] = Field(description="first 100 gaps")
    gap_count: int = Field(ge=0)


class DatasetList(_Reply):
    datasets: list[DatasetInfo]


class DatasetDeleted(_Reply):
    dataset_id: str
    deleted: bool


def _rq(op: str, request: type[BaseModel], reply: type[BaseModel], description: str) -> RequestContract:
    return RequestContract("market-data", op, request, reply, description)


EVENTS: tuple[EventContract, ...] = (
    EventContract(TradesIngested, "MD_TRADES", ("venue", "symbol_token"), "Ingested trades (batched)."),
    EventContract(
        CandleClosed, "MD_CANDLES", ("venue", "symbol_token", "timeframe"), "A candle closed, once, in order."
    ),
    EventContract(BookSnapshot, "MD_BOOKS", ("venue", "symbol_token"), "Top-N order-book snapshot."),
)
REQUESTS: tuple[RequestContract, ...] = (
    _rq("candles", CandlesRequest, CandlesReply, "Candles of one symbol and timeframe, paginated."),
    _rq(
        "candles_columns",
        CandleColumnsRequest,
        CandleColumnsReply,
        "Candles as base64 int64/float64 columns (for numerics, not money), paginated.",
    ),
    RequestContract(
        "market-data",
        "candles_packed",
        CandleColumnsRequest,
        CandlesPackedHeader,
        "Candles as one binary frame of int64/float64 columns (for numerics, not money), paginated.",
        binary_reply=True,
    ),
    _rq("latest_price", SymbolRequest, LatestPriceReply, "The last trade's price."),
    _rq("trades", TradesRequest, TradesReply, "Recent trades, newest first."),
    _rq("order_book", OrderBookRequest, OrderBookReply, "The latest book with depth analytics."),
    _rq("stats_24h", SymbolRequest, Stats24hReply, "Rolling 24-hour statistics."),
    _rq("overview", OverviewRequest, OverviewReply, "Every symbol with change, volume, volatility."),
    _rq(
        "funding_rates", fd.FundingRatesRequest, fd.FundingRatesReply, "Funding-rate history of a perpetual."
    ),
    _rq("mark_price", fd.MarkPriceRequest, fd.MarkPriceReply, "Mark price and next funding of a perpetual."),
    _rq(
        "option_quotes", mo.OptionQuotesRequest, mo.OptionQuotesReply, "Synthetic bid/ask of listed options."
    ),
    _rq("instruments", InstrumentsRequest, InstrumentsReply, "The instrument registry."),
    _rq("option_expiries", OptionExpiriesRequest, OptionExpiriesReply, "Listed expiries of an underlying."),
    _rq("datasets_upload_begin", DatasetUploadBegin, DatasetUploadStarted, "Start a CSV upload."),
    _rq("datasets_upload_chunk", DatasetUploadChunk, DatasetUploadProgress, "Append a piece of CSV."),
    _rq("datasets_upload_commit", DatasetUploadCommit, DatasetInfo, "Validate and store, all or nothing."),
    _rq("datasets_upload_abort", DatasetUploadAbort, DatasetUploadAborted, "Abandon an upload in progress."),
    _rq("datasets_list", DatasetListRequest, DatasetList, "The caller's datasets."),
    _rq("datasets_inspect", DatasetRef, DatasetInspection, "Range, bar count and gaps."),
    _rq("datasets_bars", DatasetBarsRequest, DatasetBarsReply, "A dataset's bars as candles, paginated."),
    _rq("datasets_resample", DatasetResample, DatasetInfo, "A new dataset at a coarser timeframe."),
    _rq("datasets_delete", DatasetRef, DatasetDeleted, "Delete one of the caller's datasets."),
)
