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
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from tradeloom.gateway_auth.auth import CallContext, require
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.problems import problem_responses
from tradeloom.gateway_auth.routes.forwarding import (
    CURSOR,
    FROM,
    QUERY_NAMES,
    TO,
    forward_named,
    time_range,
    unwrap_cursor,
    with_cursor,
    wrap_cursor,
)
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

SERVICE = "market-data"
ReplyT = TypeVar("ReplyT", bound=BaseModel)
router = APIRouter(prefix="/v1/market", tags=["market"])
READ = require(Scope.READ)
READ_ERRORS = problem_responses(401, 403, 404, 422, 429, 503, 504)

SYMBOL = Query(
    min_length=3, max_length=64, description="BTC/USDT, BTC-USDT or btc_usdt", examples=["BTC/USDT"]
)
VENUE = Query(min_length=1, max_length=32, description="default: the service's default venue")


async def market(ctx: CallContext, op: str, body: BaseModel, reply_model: type[ReplyT]) -> ReplyT:
    return await forward_named(ctx, SERVICE, op, body, reply_model, names=QUERY_NAMES)


@router.get(
    "/candles",
    response_model=CandlesReply,
    summary="OHLCV candles of one symbol and timeframe, oldest first",
    description="Timeframes 1m 5m 15m 1h 4h 1d 1w (weeks start Monday). Paginated with `limit` "
    "(1..5000: a chart page) and `cursor`.",
    responses=READ_ERRORS,
)
async def candles(
    *,
    ctx: Annotated[CallContext, Depends(READ)],
    symbol: Annotated[str, SYMBOL],
    venue: Annotated[str | None, VENUE] = None,
    timeframe: Annotated[str, Query(max_length=8, examples=["1h"])] = "1m",
    from_: Annotated[str | None, FROM] = None,
    to: Annotated[str | None, TO] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
    cursor: Annotated[str | None, CURSOR] = None,
) -> CandlesReply:
    from_ns, to_ns = time_range(from_, to)
    kind = f"md_candles:{timeframe}"
    body = CandlesRequest(
        symbol=symbol, venue=venue, timeframe=timeframe, from_ns=from_ns, to_ns=to_ns, limit=limit,
        cursor=unwrap_cursor(ctx, kind, cursor),
    )  # fmt: skip
    reply = await market(ctx, "candles", body, CandlesReply)
    return with_cursor(reply, wrap_cursor(ctx, kind, reply.next_cursor))


@router.get(
    "/price", response_model=LatestPriceReply, summary="The last trade's price", responses=READ_ERRORS
)
async def latest_price(
    ctx: Annotated[CallContext, Depends(READ)],
    symbol: Annotated[str, SYMBOL],
    venue: Annotated[str | None, VENUE] = None,
) -> LatestPriceReply:
    return await market(ctx, "latest_price", SymbolRequest(symbol=symbol, venue=venue), LatestPriceReply)


@router.get(
    "/trades", response_model=TradesReply, summary="Recent trades, newest first", responses=READ_ERRORS
)
async def recent_trades(
    ctx: Annotated[CallContext, Depends(READ)],
    symbol: Annotated[str, SYMBOL],
    venue: Annotated[str | None, VENUE] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TradesReply:
    body = TradesRequest(symbol=symbol, venue=venue, limit=limit)
    return await market(ctx, "trades", body, TradesReply)


@router.get(
    "/book",
    response_model=OrderBookReply,
    summary="The latest order book with depth analytics",
    description="Spread, mid, microprice, top-level imbalance and depth within ±`band_bps` of mid.",
    responses=READ_ERRORS,
)
async def order_book(
    ctx: Annotated[CallContext, Depends(READ)],
    symbol: Annotated[str, SYMBOL],
    venue: Annotated[str | None, VENUE] = None,
    depth: Annotated[int, Query(ge=1, le=500, description="levels per side")] = 20,
    band_bps: Annotated[Decimal, Query(gt=0, le=10_000, allow_inf_nan=False)] = Decimal(10),
) -> OrderBookReply:
    body = OrderBookRequest(symbol=symbol, venue=venue, depth=depth, band_bps=band_bps)
    return await market(ctx, "order_book", body, OrderBookReply)


@router.get(
    "/stats", response_model=Stats24hReply, summary="Rolling 24-hour statistics", responses=READ_ERRORS
)
async def stats_24h(
    ctx: Annotated[CallContext, Depends(READ)],
    symbol: Annotated[str, SYMBOL],
    venue: Annotated[str | None, VENUE] = None,
) -> Stats24hReply:
    return await market(ctx, "stats_24h", SymbolRequest(symbol=symbol, venue=venue), Stats24hReply)


@router.get(
    "/overview",
    response_model=OverviewReply,
    summary="Every symbol of a venue: 24h change, volume, annualised volatility",
    responses=READ_ERRORS,
)
async def overview(
    ctx: Annotated[CallContext, Depends(READ)], venue: Annotated[str | None, VENUE] = None
) -> OverviewReply:
    return await market(ctx, "overview", OverviewRequest(venue=venue), OverviewReply)


@router.get(
    "/instruments", response_model=InstrumentsReply, summary="The instrument registry", responses=READ_ERRORS
)
async def instruments(
    ctx: Annotated[CallContext, Depends(READ)],
    venue: Annotated[str | None, VENUE] = None,
    kind: Annotated[Literal["spot", "perpetual", "future", "option"] | None, Query()] = None,
    status: Annotated[Literal["active", "inactive"] | None, Query()] = None,
) -> InstrumentsReply:
    body = InstrumentsRequest(venue=venue, kind=kind, status=status)
    return await market(ctx, "instruments", body, InstrumentsReply)
