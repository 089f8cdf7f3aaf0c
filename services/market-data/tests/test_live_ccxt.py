"""The live ccxt adapter with the REAL ccxt library against a local Binance stand-in
(``standin_binance.py``): websocket trades and books, a disconnect mid-stream and a refused
reconnect (backoff doubles), the id gap detected and its whole minutes backfilled from
``fetch_ohlcv`` before later trades close them; REST polling where websockets are not used."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal

import pytest
from nats.aio.client import Client
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import ScriptTrade, StandinBinance

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.candles import TradePoint, candles_from_trades
from tradeloom.market_data.persistence import PERSISTENCE_CONSUMER
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.source_settings import LiveSourceSettings
from tradeloom.market_data.sources.ccxt_exchange import make_exchange
from tradeloom.market_data.sources.live_ccxt import LiveCcxtSource
from tradeloom.market_data.sources.live_metrics import LiveSourceMetrics
from tradeloom.market_data.sources.live_wiring import backfill_writer
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.contracts.market_data import CandleClosed
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import consumer_settled, eventually

T0_MS = 1_704_067_200_000  # 2024-01-01 00:00 UTC
MINUTE_NS = 60 * 10**9
SCRIPT = [
    ScriptTrade(
        500 + i,
        T0_MS + i * 5000,
        Decimal(100) + Decimal((i * 7) % 13) / 4,
        Decimal(f"0.{i % 9 + 1}"),
        i % 3 == 0,
    )
    for i in range(120)
]  # one trade every 5 s for 10 minutes; ws streams 0-39, drops, misses 40-79, streams 80-119


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    server = StandinBinance(
        "BTCUSDT", "BTC", "USDT", SCRIPT, segments=[(0, 40), (80, 120)], refuse_after_drop=1
    )
    await server.start()
    yield server
    await server.stop()


def live_config(standin: StandinBinance, **overrides: object) -> LiveSourceSettings:
    values: dict[str, object] = {
        "exchange": "binance",
        "symbols": ["btc-usdt"],
        "urls": standin.urls(),
        "options": {"fetchMarkets": {"types": ["spot"]}},
        "backoff_initial_s": 0.05,
        "backoff_max_s": 1.0,
        "book_interval_s": 0.01,
        "poll_interval_s": 0.05,
    }
    values.update(overrides)
    return LiveSourceSettings.model_validate(values)


async def rows(engine: AsyncEngine, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    async with engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(text(sql))).all()]


async def run_until(source: LiveCcxtSource, condition: Callable[[], object], timeout_s: float = 20) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(source.run(stop))
    deadline = asyncio.get_running_loop().time() + timeout_s
    try:
        while not await condition():  # type: ignore[misc]
            assert asyncio.get_running_loop().time() < deadline, f"timed out; gaps {source.gaps}"
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def candle_tuples(trades: list[ScriptTrade]) -> list[tuple]:  # type: ignore[type-arg]
    points = [TradePoint(str(t.id), t.ts_ms * 10**6, t.price, t.qty) for t in trades]
    return [(c.open_ns, c.open, c.high, c.low, c.close, c.volume) for c in candles_from_trades(points, "1m")]


async def test_websocket_disconnect_backoff_gap_and_ohlcv_backfill(
    standin: StandinBinance,
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    runtime = build(md_settings(md_schema))  # the persistence consumers (no source of its own)
    await runtime.start()
    config = live_config(standin)
    exchange, websocket = make_exchange(config)
    assert websocket and type(exchange).__module__.startswith("ccxt.pro")
    waited: list[float] = []

    async def sleep(seconds: float) -> None:
        waited.append(seconds)
        await asyncio.sleep(seconds)

    publisher = MarketPublisher(EventPublisher(nc.jetstream(), subjects, "test"))
    registry, clock = CollectorRegistry(), FakeClock()
    source = LiveCcxtSource(
        exchange,
        config,
        publisher,
        websocket=True,
        backfill=backfill_writer(db_engine, md_schema),
        sleep=sleep,
        metrics=LiveSourceMetrics(registry, clock),
    )
    try:
        instruments = await source.load()
        assert [(i.symbol, i.tick_size, i.lot_size, i.min_notional) for i in instruments] == [
            ("BTC/USDT", Decimal("0.01"), Decimal("0.00001"), Decimal(5))
        ]
        s = md_schema

        async def all_stored() -> bool:
            # ccxt hands over trades when the NEXT message arrives: the script's last few may wait
            stored = await rows(db_engine, f"SELECT count(*) FROM \"{s}\".trades WHERE trade_id <= '615'")
            books = await rows(db_engine, f'SELECT count(*) FROM "{s}".order_books')
            return bool(stored[0][0] == 76 and books[0][0] == 1)

        await run_until(source, all_stored)
        trade_waits = [d for what, d in source.reconnect_delays if what.startswith("trades")]
        assert trade_waits == [0.05, 0.1]  # dropped → 0.05 s; refused (503) → doubled
        assert standin.refused >= 1 and standin.connections >= 3  # trades twice, books at least once
        assert [(g.reason, g.last_id, g.next_id, g.missing_ids) for g in source.gaps] == [
            ("id sequence", "539", "580", 40)
        ]
        assert source.backfilled == 2 and "/api/v3/klines" in standin.requests
        assert source.book_feeds["BTC/USDT"].published >= 1
        # the operator's view: the registry's metrics moved with what happened
        vs = {"venue": "binance", "symbol": "BTC/USDT"}
        assert registry.get_sample_value("tl_md_live_trades_received_total", vs) == source.published >= 76
        assert (
            registry.get_sample_value("tl_md_live_reconnects_total", {"venue": "binance", "stream": "trades"})
            == 2
        )
        assert registry.get_sample_value("tl_md_live_gaps_total", {**vs, "reason": "id sequence"}) == 1
        assert registry.get_sample_value("tl_md_live_gap_missing_trades_total", vs) == 40
        assert registry.get_sample_value("tl_md_live_backfilled_candles_total", vs) == 2
        assert registry.get_sample_value("tl_md_live_backfill_failures_total", vs) is None
        clock.now += 7.5  # the gauge is read when scraped: seconds since the last trade received
        assert registry.get_sample_value("tl_md_live_last_trade_age_seconds", vs) == 7.5
        stored = await rows(db_engine, f'SELECT trade_id, price, amount FROM "{s}".trades ORDER BY ts_ns')
        streamed = SCRIPT[:40] + SCRIPT[80:]
        assert stored == [(str(t.id), t.price, t.qty) for t in streamed][: len(stored)]
        t0 = T0_MS * 10**6
        streamed = [t for t in streamed if t.ts_ms * 10**6 < t0 + 9 * MINUTE_NS]  # minute 9 may be partial
        candles = await rows(
            db_engine,
            f'SELECT open_ns, open, high, low, close, volume, trade_count FROM "{s}".candles '
            f"WHERE venue = 'binance' AND tf = '1m' AND open_ns < {t0 + 9 * MINUTE_NS} ORDER BY open_ns",
        )
        # minutes 4 and 5 lie wholly inside the gap: the venue's klines (= all its trades), count 0
        in_gap = [t for t in SCRIPT if t0 + 4 * MINUTE_NS <= t.ts_ms * 10**6 < t0 + 6 * MINUTE_NS]
        assert [c[:6] for c in candles if t0 + 4 * MINUTE_NS <= c[0] < t0 + 6 * MINUTE_NS] == candle_tuples(
            in_gap
        )
        assert [c[6] for c in candles if t0 + 4 * MINUTE_NS <= c[0] < t0 + 6 * MINUTE_NS] == [0, 0]
        # the other minutes are built from the streamed trades only
        assert [
            c[:6] for c in candles if not t0 + 4 * MINUTE_NS <= c[0] < t0 + 6 * MINUTE_NS
        ] == candle_tuples(streamed)
        # the watermark (minute 9) closed minutes 0-8 in order, the backfilled ones included

        async def closed_minutes() -> list[int]:
            closed = await rows(
                db_engine,
                f"SELECT payload FROM \"{s}\".outbox WHERE subject LIKE '%candle_closed%' ORDER BY seq",
            )
            events = [Envelope.from_bytes(bytes(r[0])).unwrap(CandleClosed) for r in closed]
            return [e.open_ns for e in events if e.timeframe == "1m"]

        await eventually(lambda: _at_least(closed_minutes(), 9), "minutes 0-8 closed")
        assert await closed_minutes() == [t0 + k * MINUTE_NS for k in range(9)]
    finally:
        await runtime.stop()


async def test_rest_polling_when_websockets_are_off(
    standin: StandinBinance,
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    config = live_config(standin, transport="rest")
    runtime = build(md_settings(md_schema, live_sources=[config]))  # through the service's wiring
    await runtime.start()
    try:
        deadline = asyncio.get_running_loop().time() + 20
        s = md_schema
        while (await rows(db_engine, f'SELECT count(*) FROM "{s}".trades'))[0][0] < len(SCRIPT) or not (
            await rows(db_engine, f'SELECT count(*) FROM "{s}".order_books')
        )[0][0]:
            assert asyncio.get_running_loop().time() < deadline, "REST polling stored too little"
            await asyncio.sleep(0.1)
        assert standin.connections == 0 and "/api/v3/aggTrades" in standin.requests
        received = runtime.registry.get_sample_value(
            "tl_md_live_trades_received_total", {"venue": "binance", "symbol": "BTC/USDT"}
        )
        assert received == len(SCRIPT)  # the service's own registry, served on /metrics
        assert (await rows(db_engine, f"SELECT source FROM \"{s}\".instruments WHERE venue = 'binance'")) == [
            ("ccxt",)
        ]
        # more polls: nothing new, nothing stored twice (two more polls answered, all stored)
        polls = standin.requests.count("/api/v3/aggTrades")
        await eventually(lambda: standin.requests.count("/api/v3/aggTrades") >= polls + 2, "two more polls")
        js, consumer = nc.jetstream(), PERSISTENCE_CONSUMER
        await eventually(
            lambda: consumer_settled(js, Subjects(nats_prefix).stream(consumer.stream), consumer.durable)
        )
        assert (await rows(db_engine, f'SELECT count(*) FROM "{s}".trades'))[0][0] == len(SCRIPT)
    finally:
        await runtime.stop()


def test_bad_live_settings_are_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="symbols"):
        LiveSourceSettings.model_validate({"exchange": "binance", "symbols": ["not a symbol"]})
    with pytest.raises(ValueError, match="transport"):
        LiveSourceSettings.model_validate(
            {"exchange": "binance", "symbols": ["BTC/USDT"], "transport": "carrier pigeon"}
        )


async def _at_least(values: Awaitable[list[int]], count: int) -> bool:
    return len(await values) >= count
