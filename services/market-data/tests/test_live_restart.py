"""A live source restarted against the same database resumes from the last STORED trade: the real
ccxt against the Binance stand-in, a first source streams a while and stops, the venue trades on
(minutes the service never saw), a fresh source starts: the id gap since the stored trade is
detected, counted and its whole minutes backfilled from klines, nothing stored twice. Over REST the
fresh source fetches the missed trades themselves (``since`` the stored one): no gap at all."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import pytest
from nats.aio.client import Client
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine
from standin_binance import ScriptTrade, StandinBinance
from test_live_ccxt import candle_tuples, live_config, rows, run_until

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.live_metrics import LiveSourceMetrics
from tradeloom.market_data.sources.live_wiring import start_live_source
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

T0_MS = 1_704_153_600_000  # 2024-01-02 00:00 UTC
MINUTE_NS = 60 * 10**9
SCRIPT = [
    ScriptTrade(
        700 + i,
        T0_MS + i * 5000,
        Decimal(200) + Decimal((i * 5) % 11) / 8,
        Decimal(f"0.{i % 7 + 1}"),
        i % 2 == 0,
    )
    for i in range(120)
]  # one trade every 5 s for 10 minutes; the first run sees 0-29, the venue goes on, the second 100-119
BEFORE, AFTER = 30, 100
VS = {"venue": "binance", "symbol": "BTC/USDT"}


@pytest.fixture
async def standin() -> AsyncIterator[StandinBinance]:
    server = StandinBinance(
        "BTCUSDT", "BTC", "USDT", SCRIPT, segments=[(0, BEFORE), (AFTER, 120)], drop_after_segment=False
    )
    server.history = BEFORE  # what the venue has traded so far
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def persistence(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> AsyncIterator[ServiceRuntime]:
    """The service's persistence consumers (no source of its own); sources are started by the test."""
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    runtime = build(md_settings(md_schema))
    await runtime.start()
    yield runtime
    await runtime.stop()


async def stored_trades(engine: AsyncEngine, schema: str) -> list[tuple]:  # type: ignore[type-arg]
    return await rows(engine, f'SELECT trade_id, ts_ns, price, amount FROM "{schema}".trades ORDER BY ts_ns')


async def newest_trade_in_stream(nc: Client, prefix: str, subject: str) -> tuple[str, int]:
    """(trade id, ts_ns) of the newest trade in the subject's last JetStream message, read raw."""
    message = await nc.jetstream().get_last_msg(Subjects(prefix).stream("MD_TRADES"), subject)
    trades = json.loads(message.data)["data"]["trades"]
    newest = max(trades, key=lambda t: int(t["ts_ns"]))
    return str(newest["trade_id"]), int(newest["ts_ns"])


async def wait_persisted(nc: Client, prefix: str) -> None:
    """Until the persistence consumer has applied and acked everything in the trade stream."""
    js, stream = nc.jetstream(), Subjects(prefix).stream("MD_TRADES")
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        info = await js.consumer_info(stream, "market_data_trades_store")
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, "persistence did not catch up"
        await asyncio.sleep(0.05)


async def first_run(
    standin: StandinBinance, engine: AsyncEngine, schema: str, nc: Client, prefix: str, **config: object
) -> int:
    """A source that streams the first trades and stops; returns how many are stored."""
    publisher = MarketPublisher(EventPublisher(nc.jetstream(), Subjects(prefix), "test"))
    source = await start_live_source(live_config(standin, books=False, **config), publisher, engine, schema)
    assert source.last == {}  # nothing stored yet: nothing to resume from

    async def enough() -> bool:  # ccxt may keep the last trade of a burst until the next message
        return len(await stored_trades(engine, schema)) >= BEFORE - 5

    await run_until(source, enough)
    await wait_persisted(nc, prefix)
    return len(await stored_trades(engine, schema))


@pytest.mark.parametrize("klines_fail", [False, True], ids=["backfilled", "backfill-fails"])
async def test_restart_detects_the_gap_since_the_last_stored_trade_and_backfills_its_minutes(
    standin: StandinBinance,
    persistence: ServiceRuntime,
    md_schema: str,
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
    klines_fail: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    s = md_schema
    await first_run(standin, db_engine, s, nc, nats_prefix)
    publisher = MarketPublisher(EventPublisher(nc.jetstream(), Subjects(nats_prefix), "test"))
    before = await stored_trades(db_engine, s)
    last_id, last_ts = before[-1][0], before[-1][1]

    standin.history = len(SCRIPT)  # the venue trades on while the service is down
    standin.klines_status = 500 if klines_fail else 200
    registry = CollectorRegistry()
    source = await start_live_source(
        live_config(standin, books=False), publisher, db_engine, s, LiveSourceMetrics(registry)
    )
    assert source.last == {"BTC/USDT": (last_id, last_ts)}

    async def resumed() -> bool:
        return len([t for t in await stored_trades(db_engine, s) if int(t[0]) >= 700 + AFTER]) >= 15

    await run_until(source, resumed)
    await wait_persisted(nc, nats_prefix)

    missing = 700 + AFTER - int(last_id) - 1
    assert [(g.reason, g.last_id, g.next_id, g.missing_ids) for g in source.gaps] == [
        ("id sequence", last_id, str(700 + AFTER), missing)
    ]
    assert f"gap since the last stored trade by id sequence between trade {last_id}" in caplog.text
    assert registry.get_sample_value("tl_md_live_gaps_total", {**VS, "reason": "id sequence"}) == 1
    assert registry.get_sample_value("tl_md_live_gap_missing_trades_total", VS) == missing
    # whole minutes strictly between the stored trade's minute and the first new trade's minute
    first = last_ts - last_ts % MINUTE_NS + MINUTE_NS
    end = SCRIPT[AFTER].ts_ms * 10**6 - SCRIPT[AFTER].ts_ms * 10**6 % MINUTE_NS
    interior = range(first, end, MINUTE_NS)
    assert len(interior) >= 4  # several minutes the service never saw
    stored = await stored_trades(db_engine, s)
    assert len({t[0] for t in stored}) == len(stored)  # nothing twice
    assert [t[0] for t in stored] == [
        str(t.id) for t in SCRIPT if t.id <= int(last_id) or t.id >= 700 + AFTER
    ][: len(stored)]
    candles = await rows(
        db_engine,
        f'SELECT open_ns, open, high, low, close, volume, trade_count FROM "{s}".candles '
        f"WHERE tf = '1m' ORDER BY open_ns",
    )
    in_gap = [c for c in candles if c[0] in interior]
    if klines_fail:
        assert in_gap == [] and source.backfilled == 0
        assert registry.get_sample_value("tl_md_live_backfill_failures_total", VS) == 1
        assert registry.get_sample_value("tl_md_live_backfilled_candles_total", VS) is None
    else:  # the venue's klines of exactly the trades it made in those minutes, no trade count
        missed = [t for t in SCRIPT if first <= t.ts_ms * 10**6 < end]
        assert [c[:6] for c in in_gap] == candle_tuples(missed) and {c[6] for c in in_gap} == {0}
        assert registry.get_sample_value("tl_md_live_backfilled_candles_total", VS) == len(interior)
        assert registry.get_sample_value("tl_md_live_backfill_failures_total", VS) is None
    # every other minute (the edges included) is built from the stored trades alone
    script = {str(t.id): t for t in SCRIPT}
    assert [c[:6] for c in candles if c[0] not in interior] == candle_tuples([script[t[0]] for t in stored])


async def test_restart_over_rest_fetches_the_missed_trades_without_a_gap_or_a_duplicate(
    standin: StandinBinance,
    persistence: ServiceRuntime,
    md_schema: str,
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    s = md_schema
    assert await first_run(standin, db_engine, s, nc, nats_prefix, transport="rest") == BEFORE
    publisher = MarketPublisher(EventPublisher(nc.jetstream(), Subjects(nats_prefix), "test"))
    standin.history = len(SCRIPT)
    registry = CollectorRegistry()
    source = await start_live_source(
        live_config(standin, books=False, transport="rest"),
        publisher,
        db_engine,
        s,
        LiveSourceMetrics(registry),
    )
    assert source.last["BTC/USDT"][0] == str(SCRIPT[BEFORE - 1].id)

    async def all_stored() -> bool:
        return len(await stored_trades(db_engine, s)) >= len(SCRIPT)

    await run_until(source, all_stored)
    await wait_persisted(nc, nats_prefix)  # the stored trade fetched again was not re-sent
    assert source.gaps == [] and source.published == len(SCRIPT) - BEFORE
    assert registry.get_sample_value("tl_md_live_trades_received_total", VS) == len(SCRIPT) - BEFORE
    stored = await stored_trades(db_engine, s)
    assert [t[0] for t in stored] == [str(t.id) for t in SCRIPT]
    candles = await rows(
        db_engine,
        f"SELECT open_ns, open, high, low, close, volume FROM \"{s}\".candles WHERE tf = '1m' ORDER BY 1",
    )
    assert candles == candle_tuples(SCRIPT)


async def test_restart_resumes_after_trades_published_but_not_yet_stored(
    standin: StandinBinance, md_schema: str, nc: Client, nats_prefix: str, db_engine: AsyncEngine
) -> None:
    """No persistence consumer runs: the first source's trades are only in JetStream. The fresh
    source resumes after the newest of those, so they are not taken for a gap (whose backfilled
    minutes would count their volume twice once they are stored)."""
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    publisher = MarketPublisher(EventPublisher(nc.jetstream(), Subjects(nats_prefix), "test"))
    first = await start_live_source(live_config(standin, books=False), publisher, db_engine, md_schema)

    async def published() -> bool:
        return first.published >= BEFORE - 5

    await run_until(first, published)
    assert await stored_trades(db_engine, md_schema) == []
    newest_published = await newest_trade_in_stream(
        nc, nats_prefix, publisher.trades_subject("binance", "BTC/USDT")
    )
    # The stop may cancel a publish JetStream already took: the stream, not ``first.last``, is the truth.
    assert newest_published[1] >= first.last["BTC/USDT"][1]

    again = await start_live_source(live_config(standin, books=False), publisher, db_engine, md_schema)
    assert again.last == {"BTC/USDT": newest_published}
    await again.exchange.close()
