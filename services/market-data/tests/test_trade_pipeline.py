"""Trades published to JetStream reach Postgres once, candles close once and in order, and a
persistence consumer killed between commit and ack (or mid-stream) loses and duplicates nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal

from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.simulator import SimConfig, SyntheticMarket
from tradeloom.market_data.persistence import PERSISTENCE_CONSUMER, Parsed, TradePersistence
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.contracts.market_data import CandleClosed, TradesIngested, TradeTick
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.streams import ConsumerSpec, ensure_streams
from tradeloom.shared.subjects import Subjects

MINUTE = 60 * 10**9
T0 = 1_704_067_200_000_000_000  # 2024-01-01 00:00 UTC


def tick(i: int, ts_ns: int, price: str, amount: str = "1") -> TradeTick:
    return TradeTick(
        trade_id=f"{i:06d}", ts_ns=ts_ns, price=Decimal(price), amount=Decimal(amount), side="buy"
    )


async def wait_for(predicate: Callable[[], object], timeout_s: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():  # type: ignore[misc]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def count(engine: AsyncEngine, schema: str, table: str, where: str = "TRUE") -> int:
    async with engine.connect() as connection:
        return int(
            (
                await connection.execute(text(f'SELECT count(*) FROM "{schema}".{table} WHERE {where}'))
            ).scalar_one()
        )


async def test_trades_to_candles_and_closed_events_once_in_order(
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    nc: Client,
    nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    runtime = build(md_settings(md_schema, sim_symbols=["BTC/USDT"], sim_trades_per_s=0))  # instrument only
    await runtime.start()
    try:
        publisher = MarketPublisher(EventPublisher(nc.jetstream(), subjects, "test"), batch_max=3)
        trades = [tick(i, T0 + i * 20 * 10**9, str(100 + i)) for i in range(12)]  # 4 minutes
        await publisher.publish_trades("sim", "BTC/USDT", trades)
        await publisher.publish_trades("sim", "BTC/USDT", trades[2:7])  # a restarted source re-sends
        await wait_for(
            lambda: _has(db_engine, md_schema, "trades", "venue = 'sim' AND ts_ns < 1704067500000000000", 12)
        )
        sub = await nc.jetstream().pull_subscribe(
            subjects.event_filter("md", "candle_closed", 1), stream=subjects.stream("MD_CANDLES")
        )
        closed = await fetch_closed(sub, 4)
        minutes = [c for c in closed if c.timeframe == "1m"]
        # watermark is minute 3 (+40s): minutes 0, 1 and 2 are closed, minute 3 still open
        assert [c.open_ns for c in minutes] == [T0, T0 + MINUTE, T0 + 2 * MINUTE]
        assert (minutes[0].open, minutes[0].close, minutes[0].trade_count) == (Decimal(100), Decimal(102), 3)
        assert minutes[1].volume == Decimal(3)
        # the first 3m candle is over too; 5m and above are not
        assert [(c.timeframe, c.open_ns) for c in closed if c.timeframe != "1m"] == [("3m", T0)]
        assert await count(db_engine, md_schema, "candles", "tf = '1m' AND venue = 'sim'") == 4
        late = [tick(100, T0 + 5 * MINUTE, "90"), tick(101, T0 + 3 * MINUTE + 1, "95")]
        await publisher.publish_trades("sim", "BTC/USDT", late)
        more = await fetch_closed(sub, 2)
        assert [(c.timeframe, c.open_ns) for c in more] == [("1m", T0 + 3 * MINUTE), ("5m", T0)]
        assert more[0].trade_count == 4 and more[0].low == Decimal(95)  # the late trade is in
        await sub.unsubscribe()
    finally:
        await runtime.stop()


async def fetch_closed(sub, expected: int) -> list[CandleClosed]:  # type: ignore[no-untyped-def]
    """Everything delivered until ``expected`` arrived and then 1 s of quiet (to catch extras)."""
    out: list[CandleClosed] = []
    while True:
        try:
            messages = await sub.fetch(50, timeout=1 if len(out) >= expected else 10)
        except TimeoutError:
            return out
        for message in messages:
            await message.ack()
            out.append(Envelope.from_bytes(message.data).unwrap(CandleClosed))


async def _has(engine: AsyncEngine, schema: str, table: str, where: str, expected: int) -> bool:
    return await count(engine, schema, table, where) >= expected


async def test_killed_persistence_consumer_loses_and_duplicates_nothing(
    md_schema: str, nc: Client, nats_prefix: str, db_engine: AsyncEngine
) -> None:
    subjects = Subjects(nats_prefix)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    market = SyntheticMarket(SimConfig("ETH/USDT", start_price=3000, trades_per_s=1000), seed=7, run_id="r1")
    trades = market.trades([T0 + i * 5 * 10**7 for i in range(6000)])  # 5 minutes
    publisher = MarketPublisher(EventPublisher(js, subjects, "test"), batch_max=50)  # 120 messages
    await publisher.publish_trades("sim", "ETH/USDT", trades)
    spec = ConsumerSpec(**{**PERSISTENCE_CONSUMER.__dict__, "backoff_s": (1.0,), "max_deliver": 20})
    outbox = Outbox(md_schema, subjects, "tradeloom/market-data")
    commits = 0
    # Redelivery after a crash comes ack_wait later, behind newer messages: the lateness tolerance
    # (event time) must cover that reordering for closed candles to carry every trade. Here 5 minutes
    # of event time pass in milliseconds, so up to 100 s of event time can come back late.
    tolerance = 120 * 10**9

    async def crash_after_commit(_: list[Parsed]) -> None:
        nonlocal commits
        commits += 1
        if commits == 3:  # committed, never acked: the process dies here
            raise asyncio.CancelledError

    first = TradePersistence(
        js=js,
        engine=db_engine,
        schema=md_schema,
        subjects=subjects,
        outbox=outbox,
        tolerance_ns=tolerance,
        spec=spec,
        batch_size=20,
        after_commit=crash_after_commit,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(first.run(stop))
    await asyncio.wait({task}, timeout=20)
    assert task.done() and commits == 3
    stored_after_crash = await count(db_engine, md_schema, "trades")
    assert 0 < stored_after_crash < 6000

    second = TradePersistence(
        js=js,
        engine=db_engine,
        schema=md_schema,
        subjects=subjects,
        outbox=outbox,
        tolerance_ns=tolerance,
        spec=spec,
        batch_size=20,
    )
    stop2 = asyncio.Event()
    task2 = asyncio.create_task(second.run(stop2))
    await wait_for(lambda: _has(db_engine, md_schema, "trades", "TRUE", 6000), timeout_s=30)
    await wait_for(lambda: _pending_zero(js, subjects, spec), timeout_s=30)
    stop2.set()
    await task2
    assert await count(db_engine, md_schema, "trades") == 6000
    assert await count(db_engine, md_schema, "inbox") == 120
    async with db_engine.connect() as connection:
        row = (
            await connection.execute(
                text(f"SELECT sum(trade_count), sum(volume) FROM \"{md_schema}\".candles WHERE tf = '1m'")
            )
        ).one()
        closed = (
            await connection.execute(
                text(
                    f'SELECT payload FROM "{md_schema}".outbox '
                    "WHERE subject LIKE '%candle_closed%' ORDER BY seq"
                )
            )
        ).all()
    assert row[0] == 6000 and row[1] == sum(t.amount for t in trades)
    # watermark 299.95 s, tolerance 120 s: minutes 0-1 closed exactly once each, in order, complete
    events = [Envelope.from_bytes(bytes(r.payload)).unwrap(CandleClosed) for r in closed]
    assert [(e.timeframe, e.open_ns) for e in events] == [("1m", T0 + k * MINUTE) for k in range(2)]
    assert [e.trade_count for e in events] == [1200, 1200]
    assert second.metrics.duplicates._value.get() >= 1  # the un-acked committed batch came back


async def _pending_zero(js, subjects: Subjects, spec: ConsumerSpec) -> bool:  # type: ignore[no-untyped-def]
    info = await js.consumer_info(subjects.stream(spec.stream), spec.durable)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_bad_trade_messages_are_dead_lettered_and_the_rest_stored(
    md_schema: str, nc: Client, nats_prefix: str, db_engine: AsyncEngine
) -> None:
    """The consumer's fast parse refuses what the contract refuses (NaN price, unknown key) into
    ``dlq.<subject>``; a float price, which the contract accepts, is stored via the model path."""
    subjects = Subjects(nats_prefix)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    subject = subjects.event("md", "trade", 1, "sim", "BTC-USDT")

    async def send(message_id: str, **trade: object) -> None:
        data = {"trade_id": message_id, "ts_ns": T0, "price": "100", "amount": "1", "side": "buy", **trade}
        envelope = Envelope.model_validate(
            {
                "id": message_id,
                "source": "tradeloom/test",
                "type": TradesIngested.event_type(),
                "time": "2024-01-01T00:00:00Z",
                "dataschema": TradesIngested.dataschema(),
                "data": {"venue": "sim", "symbol": "BTC/USDT", "trades": [data]},
            }
        )
        await js.publish(subject, envelope.to_bytes(), headers={"Nats-Msg-Id": message_id})

    await send("nan", price="NaN")
    await send("extra", note="x")
    await send("float", price=101.5)
    await send("good", price="102.25")
    dlq = await js.pull_subscribe(subjects.dead_letter(subject), stream=subjects.stream("DEAD_LETTERS"))
    persistence = TradePersistence(
        js=js,
        engine=db_engine,
        schema=md_schema,
        subjects=subjects,
        outbox=Outbox(md_schema, subjects, "tradeloom/market-data"),
        tolerance_ns=0,
        batch_size=10,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(persistence.run(stop))
    try:
        await wait_for(lambda: _has(db_engine, md_schema, "trades", "TRUE", 2))
        dead = await dlq.fetch(2, timeout=10)
    finally:
        stop.set()
        await task
    assert sorted(m.headers["tl-error-code"] for m in dead if m.headers) == ["invalid_message"] * 2
    async with db_engine.connect() as connection:
        stored = (
            await connection.execute(text(f'SELECT trade_id, price FROM "{md_schema}".trades ORDER BY 1'))
        ).all()
    assert [tuple(r) for r in stored] == [("float", Decimal("101.5")), ("good", Decimal("102.25"))]
