"""``/v1/market/*``: market-data's read operations, each route one ``svc.market-data.<op>``.

Everything here is scope ``read``. Symbols may be written ``BTC/USDT``, ``BTC-USDT`` or
``btc_usdt``; ``venue`` defaults to the service's default venue. ``from``/``to`` take an ISO 8601
time (an offset wins, none means UTC) or integer nanoseconds since the epoch and become
``from_ns``/``to_ns``. Unknown symbol (or no data yet) → 404; a bad timeframe, ``from`` after
``to`` or a bad symbol spelling → 422 naming the query parameter. The service's own cursors are
wrapped in the gateway's signed cursors (tampered or from another list → 422 ``query.cursor``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Query

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.forwarding import CURSOR, FROM, QUERY_NAMES, TO, time_inputs
from tradeloom.gateway_auth.routes.params import READ_ERRORS, WRITE_ERRORS
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts import market_data_funding as fd
from tradeloom.shared.contracts import market_data_imports as im
from tradeloom.shared.contracts import market_data_option_chain as oc
from tradeloom.shared.contracts import market_data_subscriptions as sb
from tradeloom.shared.contracts.market_data import (
    CandlesReply,
    CandlesRequest,
    InstrumentsReply,
    InstrumentsRequest,
    LatestPriceReply,
    OrderBookReply,
    OrderBookRequest,
    OverviewReply,
    OverviewRequest,
    Stats24hReply,
    SymbolRequest,
    TradesReply,
    TradesRequest,
)
from tradeloom.shared.contracts.market_data_trades import TradesRangeReply, TradesRangeRequest

SERVICE = "market-data"
router = APIRouter(prefix="/v1/market", tags=["market"])
READ, ADMIN = Scope.READ, Scope.ADMIN

SYMBOL = Param(
    "symbol",
    str,
    Query(min_length=3, max_length=64, description="BTC/USDT, BTC-USDT or btc_usdt", examples=["BTC/USDT"]),
)
VENUE = Param(
    "venue",
    str | None,
    Query(min_length=1, max_length=32, description="default: the service's default venue"),
    None,
)

ROUTES = (
    Forward(
        "GET", "/candles", READ, SERVICE, "candles", CandlesRequest, CandlesReply,
        name="candles",
        summary="OHLCV candles of one symbol and timeframe, oldest first",
        description="Timeframes 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M (weeks start Monday 00:00 "
        "UTC, 1M is the calendar month). Paginated with `limit` "
        "(1..5000: a chart page) and `cursor`.",
        errors=READ_ERRORS,
        query=(
            SYMBOL, VENUE, Param("timeframe", str, Query(max_length=8, examples=["1h"]), "1m"),
            Param("from_", str | None, FROM, None), Param("to", str | None, TO, None),
            Param("limit", int, Query(ge=1, le=5000), 500), Param("cursor", str | None, CURSOR, None),
        ),
        cursor="md_candles:{timeframe}", prepare=time_inputs, names=QUERY_NAMES,
    ),
    Forward(
        "GET", "/price", READ, SERVICE, "latest_price", SymbolRequest, LatestPriceReply,
        name="latest_price", summary="The last trade's price", errors=READ_ERRORS, query=(SYMBOL, VENUE),
    ),
    Forward(
        "GET", "/trades", READ, SERVICE, "trades", TradesRequest, TradesReply,
        name="recent_trades", summary="Recent trades, newest first", errors=READ_ERRORS,
        query=(SYMBOL, VENUE, Param("limit", int, Query(ge=1, le=1000), 100)),
    ),
    Forward(
        "GET", "/trades/range", READ, SERVICE, "trades_range", TradesRangeRequest, TradesRangeReply,
        name="trades_range", summary="Stored trades of a time range, oldest first",
        description="`from`/`to` inclusive (either may be left out). Paginated with `limit` (1..5000) "
        "and `cursor`, by (time, trade id): no trade skipped or repeated.",
        errors=READ_ERRORS,
        query=(
            SYMBOL, VENUE, Param("from_", str | None, FROM, None), Param("to", str | None, TO, None),
            Param("limit", int, Query(ge=1, le=5000), 1000), Param("cursor", str | None, CURSOR, None),
        ),
        cursor="md_trades_range:{symbol}", prepare=time_inputs, names=QUERY_NAMES,
    ),
    Forward(
        "GET", "/book", READ, SERVICE, "order_book", OrderBookRequest, OrderBookReply,
        name="order_book",
        summary="The latest order book with depth analytics",
        description="Spread, mid, microprice, top-level imbalance and depth within ±`band_bps` of mid.",
        errors=READ_ERRORS,
        query=(
            SYMBOL, VENUE, Param("depth", int, Query(ge=1, le=500, description="levels per side"), 20),
            Param("band_bps", Decimal, Query(gt=0, le=10_000, allow_inf_nan=False), Decimal(10)),
        ),
    ),
    Forward(
        "GET", "/stats", READ, SERVICE, "stats_24h", SymbolRequest, Stats24hReply,
        name="stats_24h", summary="Rolling 24-hour statistics", errors=READ_ERRORS, query=(SYMBOL, VENUE),
    ),
    Forward(
        "GET", "/overview", READ, SERVICE, "overview", OverviewRequest, OverviewReply,
        name="overview",
        summary="Every symbol of a venue: 24h change, volume, annualised volatility",
        errors=READ_ERRORS,
        query=(VENUE,),
    ),
    Forward(
        "GET", "/instruments", READ, SERVICE, "instruments", InstrumentsRequest, InstrumentsReply,
        name="instruments", summary="The instrument registry", errors=READ_ERRORS,
        query=(
            VENUE,
            Param("kind", Literal["spot", "perpetual", "future", "option"] | None, Query(), None),
            Param("status", Literal["active", "inactive"] | None, Query(), None),
        ),
    ),
    Forward(
        "GET", "/funding-rates", READ, SERVICE, "funding_rates", fd.FundingRatesRequest, fd.FundingRatesReply,
        name="funding_rates", summary="Funding-rate history of a perpetual, oldest first",
        description="Each funding time with its rate and the mark price then; the newest `limit` in "
        "[`from`, `to`). 404 for a symbol that is not a perpetual of the venue.",
        errors=READ_ERRORS,
        query=(
            Param("symbol", str, Query(min_length=3, max_length=64, examples=["BTC/USDT:USDT"])), VENUE,
            Param("from_", str | None, FROM, None), Param("to", str | None, TO, None),
            Param("limit", int, Query(ge=1, le=1000), 500),
        ),
        prepare=time_inputs, names=QUERY_NAMES,
    ),
    Forward(
        "GET", "/mark-price", READ, SERVICE, "mark_price", fd.MarkPriceRequest, fd.MarkPriceReply,
        name="mark_price", summary="Mark price, last funding rate and next funding time of a perpetual",
        errors=READ_ERRORS,
        query=(Param("symbol", str, Query(min_length=3, max_length=64, examples=["BTC/USDT:USDT"])), VENUE),
    ),
    Forward(
        "GET", "/subscriptions", READ, SERVICE, "subscriptions_list", sb.SubscriptionsListRequest,
        sb.SubscriptionsReply,
        name="list_subscriptions", summary="What market-data ingests, with status, last trade and lag",
        description="The symbols from the service's settings (`source` `settings`) and those started "
        "through the API (`source` `api`, stopped ones included).",
        errors=READ_ERRORS, query=(VENUE,),
    ),
    Forward(
        "POST", "/subscriptions", ADMIN, SERVICE, "subscriptions_start", sb.SubscriptionStart,
        sb.Subscription,
        name="start_subscription", body=sb.SubscriptionStart, errors=WRITE_ERRORS,
        summary="Admin: start ingesting a venue's symbol (persisted, no restart)",
        description="Venues: the synthetic one (any symbol is simulated) and the ccxt venues the service "
        "is configured for (the symbol must be one of the venue's markets: else 422 `symbol`). Unknown "
        "venue → 422 `venue`; a symbol ingested from the settings → 409. Starting it again restarts a "
        "stopped or failed one.",
    ),
    Forward(
        "DELETE", "/subscriptions", ADMIN, SERVICE, "subscriptions_stop", sb.SubscriptionRef, sb.Subscription,
        name="stop_subscription", errors=WRITE_ERRORS,
        summary="Admin: stop ingesting a symbol started through the API (it stays listed, stopped)",
        query=(
            Param("venue", str, Query(min_length=1, max_length=32, examples=["sim"])),
            Param("symbol", str, Query(min_length=3, max_length=64, examples=["SOL/USDT"])),
        ),
    ),
    Forward(
        "POST", "/imports", ADMIN, SERVICE, "imports_start", im.ImportStart, im.ImportJob,
        name="start_import", body=im.ImportStart, status=202, errors=WRITE_ERRORS,
        summary="Admin: import a symbol's 1m candles of a time range from a ccxt venue (a job)",
        description="Paged `fetchOHLCV`, rate-limit aware, resumable from its stored cursor, never "
        "overwriting a stored candle (a re-run stores nothing new); follow it with `GET /imports`. "
        "Unknown venue → 422 `venue`; not one of its markets → 422 `symbol`.",
    ),
    Forward(
        "POST", "/option-chains", ADMIN, SERVICE, "option_chain_import", oc.OptionChainImport,
        oc.OptionChainImported, name="import_option_chain", body=oc.OptionChainImport, errors=WRITE_ERRORS,
        summary="Admin: import a ccxt venue's option chain of an underlying now",
        description="The venue's option markets of the underlying (of one expiry if given) go into the "
        "instrument registry and its current bid/ask/last, mark, IVs and Greeks are stored (replacing the "
        "previous import's); read them through `GET /v1/analytics/options/chain?venue=…`. Unknown venue → "
        "422 `venue`; no options on the underlying → 422 `underlying`; none expiring that day → 422 "
        "`expiry`; the venue not answering → 503.",
    ),
    Forward(
        "GET", "/imports", READ, SERVICE, "imports_list", im.ImportsListRequest, im.ImportsReply,
        name="list_imports", summary="Historical imports with progress and gaps, newest first",
        errors=READ_ERRORS,
        query=(
            Param("import_id", str | None, Query(max_length=36, description="just this one"), None),
            Param("venue", str | None, Query(min_length=1, max_length=32), None),
            Param("limit", int, Query(ge=1, le=500), 50),
        ),
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
