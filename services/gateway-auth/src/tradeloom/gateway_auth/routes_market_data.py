"""``/v1/market/*``: market-data's read operations, each route one ``svc.market-data.<op>``.

Everything here is scope ``read``. Symbols may be written ``BTC/USDT``, ``BTC-USDT`` or
``btc_usdt``; ``venue`` defaults to the service's default venue. ``from``/``to`` take an ISO 8601
time (an offset wins, none means UTC) or integer nanoseconds since the epoch and become
``from_ns``/``to_ns``. Unknown symbol (or no data yet) → 404; a bad timeframe, ``from`` after
``to`` or a bad symbol spelling → 422 naming the query parameter. The service's own cursors are
wrapped in the gateway's signed cursors (tampered or from another list → 422 ``query.cursor``).

``forward_named`` and ``ns_time`` are shared by ``routes_datasets`` and ``routes_backtests``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from tradeloom.gateway_auth import proxy
from tradeloom.gateway_auth.auth import CallContext, gateway_of, require
from tradeloom.gateway_auth.domain.cursors import MAX_CURSOR_CHARS, InvalidCursor
from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.problems import problem_responses
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
from tradeloom.shared.errors import ValidationFailed
from tradeloom.shared.rpc import RemoteError

SERVICE = "market-data"
ReplyT = TypeVar("ReplyT", bound=BaseModel)
router = APIRouter(prefix="/v1/market", tags=["market"])
READ = require(Scope.READ)
READ_ERRORS = problem_responses(401, 403, 404, 422, 429, 503, 504)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# the service's request fields → the query parameters the public routes call them
QUERY_NAMES = {"from_ns": "query.from", "to_ns": "query.to"}

SYMBOL = Query(
    min_length=3, max_length=64, description="BTC/USDT, BTC-USDT or btc_usdt", examples=["BTC/USDT"]
)
VENUE = Query(min_length=1, max_length=32, description="default: the service's default venue")
FROM = Query(
    alias="from",
    max_length=40,
    description="ISO 8601 (no offset: UTC) or nanoseconds since the epoch; inclusive",
    examples=["2024-01-01T00:00:00Z"],
)
TO = Query(alias="to", max_length=40, description="like `from`; inclusive", examples=["2024-01-02T00:00:00Z"])
CURSOR = Query(min_length=1, max_length=MAX_CURSOR_CHARS, description="next_cursor of the previous page")


# ------------------------------------------------------------------------------------ shared helpers
async def forward_named(
    ctx: CallContext,
    service: str,
    op: str,
    body: BaseModel,
    reply_model: type[ReplyT],
    *,
    names: Mapping[str, str] | None = None,
    prefix: str = "query.",
    timeout_s: float | None = None,
) -> ReplyT:
    """``proxy.forward``, with the service's validation errors renamed to the public inputs: a field
    the service calls ``from_ns`` is the query parameter ``from`` here (``names``), the rest get
    ``prefix`` (``query.``, ``body.``, ``path.``). Other details (e.g. a CSV's bad rows) are kept."""
    try:
        return await proxy.forward(ctx, service, op, body, reply_model, timeout_s=timeout_s)
    except RemoteError as error:
        if error.code != "validation_error":
            raise
        renamed = [
            {**item, "field": public_name(str(item.get("field", "")), names or {}, prefix)}
            for item in error.details.get("fields", [])
            if isinstance(item, dict)
        ]
        listed = ", ".join(f"{item['field']}: {item.get('message', '')}" for item in renamed[:5])
        raise ValidationFailed(
            listed or error.message, code=error.code, details={**error.details, "fields": renamed}
        ) from None


def public_name(field: str, names: Mapping[str, str], prefix: str) -> str:
    if field in names:
        return names[field]
    head = field.split(".", 1)[0]
    if head in names:  # e.g. a nested field of a renamed input
        return names[head] + field[len(head) :]
    return f"{prefix}{field}" if field and field != "body" else prefix.rstrip(".")


def ns_time(value: str | None, field: str) -> int | None:
    """An ISO 8601 time or integer nanoseconds as nanoseconds since the epoch (UTC); 422 naming
    ``field`` otherwise."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise field_error(field, "is not an ISO 8601 time or integer nanoseconds since the epoch") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    micros = (moment - EPOCH) // timedelta(microseconds=1)
    if micros < 0:
        raise field_error(field, "is before 1970-01-01T00:00:00Z")
    return int(micros) * 1000


def time_range(from_: str | None, to: str | None) -> tuple[int | None, int | None]:
    from_ns, to_ns = ns_time(from_, "query.from"), ns_time(to, "query.to")
    if from_ns is not None and to_ns is not None and from_ns > to_ns:
        raise field_error("query.from", "must not be after `to`")
    return from_ns, to_ns


def unwrap_cursor(ctx: CallContext, kind: str, cursor: str | None) -> str | None:
    """The service's cursor inside the gateway's signed one (bound to ``kind``: one list)."""
    if cursor is None:
        return None
    try:
        position = gateway_of(ctx.request).cursors.decode(kind, cursor)
    except InvalidCursor as error:
        raise field_error("query.cursor", str(error)) from error
    if not isinstance(position, str):
        raise field_error("query.cursor", "malformed cursor")
    return position


def wrap_cursor(ctx: CallContext, kind: str, service_cursor: str | None) -> str | None:
    return gateway_of(ctx.request).cursors.encode(kind, service_cursor) if service_cursor else None


def with_cursor(reply: ReplyT, cursor: str | None) -> ReplyT:
    return reply.model_copy(update={"next_cursor": cursor})


async def market(ctx: CallContext, op: str, body: BaseModel, reply_model: type[ReplyT]) -> ReplyT:
    return await forward_named(ctx, SERVICE, op, body, reply_model, names=QUERY_NAMES)


# ------------------------------------------------------------------------------------------ routes
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
