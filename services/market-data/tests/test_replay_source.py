"""Replay source: files of trades or bars → trades; pacing by speed (fake clock); a replayed file is
stored exactly (trades and candles), and a restarted replay stores nothing twice."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.candles import TradePoint, candles_from_trades
from tradeloom.market_data.domain.replay import ReplayFileError, trades_from_bars_text, trades_from_text
from tradeloom.market_data.persistence import PERSISTENCE_CONSUMER
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.source_settings import ReplaySourceSettings
from tradeloom.market_data.sources.replay import ReplaySource
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

T0 = 1_704_067_200  # 2024-01-01 00:00 UTC, seconds

TRADES_CSV = "timestamp,price,qty,trade_id\n" + "".join(
    f"{(T0 + i * 7) * 1000},{100 + (i * 37) % 11}.5,0.{i + 1:03d},{9000 + i}\n" for i in range(40)
)  # 40 trades, 7 s apart (4.6 minutes), epoch milliseconds

BARS_CSV = (
    "time,open,high,low,close,volume\n"
    "2024-01-01T00:00:00Z,100,105,99,104,10\n"
    "2024-01-01T00:01:00Z,104,104.5,101,101.5,3.3\n"
    "2024-01-01T00:02:00Z,101.5,103,101.5,102,0.7\n"
)


def test_trades_file_ids_times_and_tick_rule() -> None:
    trades = trades_from_text(
        "time,price,amount\n2024-01-01T00:00:00Z,10,1\n1704067201,11,2\n1704067202,9,1\n"
    )
    assert [t.trade_id for t in trades] == ["row2", "row3", "row4"]
    assert [t.ts_ns for t in trades] == [T0 * 10**9, (T0 + 1) * 10**9, (T0 + 2) * 10**9]
    assert [t.side for t in trades] == ["buy", "buy", "sell"]
    assert trades_from_text(TRADES_CSV)[3].trade_id == "9003"


def test_bad_trades_file_is_refused_naming_lines_and_fields() -> None:
    bad = (
        "time,price,amount,side\n1704067200,10,1,buy\n1704067199,10,1,buy\n"
        "1704067201,nan,1,buy\n1704067202,1,1,up\n"
    )
    with pytest.raises(ReplayFileError) as error:
        trades_from_text(bad)
    message = str(error.value)
    assert message.startswith("3 bad rows")
    assert "line 3: time goes backwards" in message
    assert "line 4: price is nan" in message
    assert "line 5: side" in message
    with pytest.raises(ReplayFileError, match="no column for \\['amount'\\]"):
        trades_from_text("time,price\n1,2\n")


def test_bars_become_four_trades_whose_candles_equal_the_bars() -> None:
    trades = trades_from_bars_text(BARS_CSV)
    assert len(trades) == 12
    assert [t.trade_id for t in trades[:4]] == ["bar1-o", "bar1-l", "bar1-h", "bar1-c"]
    assert [t.price for t in trades[4:8]] == [Decimal(104), Decimal("104.5"), Decimal(101), Decimal("101.5")]
    points = [TradePoint(t.trade_id, t.ts_ns, t.price, t.amount) for t in trades]
    candles = candles_from_trades(points, "1m")
    expected = pd.read_csv(pd.io.common.StringIO(BARS_CSV), dtype=str)
    assert [(c.open, c.high, c.low, c.close, c.volume) for c in candles] == [
        tuple(Decimal(row[f]) for f in ("open", "high", "low", "close", "volume"))
        for _, row in expected.iterrows()
    ]
    with pytest.raises(ReplayFileError, match="line 2: high below"):
        trades_from_bars_text("time,open,high,low,close,volume\n2024-01-01T00:00:00Z,100,99,98,100,1\n")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class RecordingPublisher:
    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.sent: list[tuple[float, list[str]]] = []

    async def publish_trades(self, venue: str, symbol: str, trades: Sequence[TradeTick]) -> int:
        self.sent.append((self.clock.now, [t.trade_id for t in trades]))
        return 1


@pytest.mark.parametrize("speed", [1.0, 10.0])
async def test_speed_maps_event_time_to_wall_time(speed: float) -> None:
    clock = FakeClock()
    publisher = RecordingPublisher(clock)
    trades = trades_from_text(TRADES_CSV)
    source = ReplaySource(
        publisher, "replay", "BTC/USDT", trades, speed=speed, clock=clock, sleep=clock.sleep
    )  # type: ignore[arg-type]
    assert await source.run() == 40
    span_s = (trades[-1].ts_ns - trades[0].ts_ns) / 1e9
    assert sum(clock.sleeps) == pytest.approx(span_s / speed)
    for sent_at, ids in publisher.sent:  # no trade goes out before its time
        trade = next(t for t in trades if t.trade_id == ids[-1])
        assert sent_at - 1000.0 >= (trade.ts_ns - trades[0].ts_ns) / 1e9 / speed - 1e-9
    assert [i for _, ids in publisher.sent for i in ids] == [t.trade_id for t in trades]


async def test_full_speed_never_sleeps() -> None:
    clock = FakeClock()
    publisher = RecordingPublisher(clock)
    source = ReplaySource(
        publisher,
        "replay",
        "BTC/USDT",
        trades_from_text(TRADES_CSV),
        speed=None,
        clock=clock,
        sleep=clock.sleep,
        max_batch=16,
    )  # type: ignore[arg-type]
    assert await source.run() == 40
    assert clock.sleeps == [] and [len(ids) for _, ids in publisher.sent] == [16, 16, 8]


async def _rows(engine: AsyncEngine, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    async with engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(text(sql))).all()]


async def _wait_for(condition: Callable[[], Awaitable[bool]], what: str, timeout: float = 60.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, f"not in {timeout}s: {what}"
        await asyncio.sleep(0.1)


async def _replay_once(
    settings: MarketDataSettings, engine: AsyncEngine, nc: Client, schema: str, expected: int
) -> int:
    """Run the service until it has sent every file's trades on the wire, stored them, and its
    persistence consumer has nothing pending; returns the trades seen on the wire in this run (a
    core subscription sees JetStream-deduplicated re-sends too, so a restart that replays nothing
    shows up as 0)."""
    subjects = Subjects(settings.nats_prefix)
    on_wire = 0

    async def count(message: Msg) -> None:
        nonlocal on_wire
        on_wire += len(json.loads(message.data)["data"]["trades"])

    subscription = await nc.subscribe(subjects.event_filter("md", "trade", 1), cb=count)
    await nc.flush()
    runtime = build(settings)
    await runtime.start()
    try:
        stream, durable = subjects.stream("MD_TRADES"), PERSISTENCE_CONSUMER.durable
        js = nc.jetstream()

        async def caught_up() -> bool:
            stored = (await _rows(engine, f'SELECT count(*) FROM "{schema}".trades'))[0][0]
            if on_wire < expected or stored < expected:
                return False
            info = await js.consumer_info(stream, durable)
            return info.num_pending == 0 and info.num_ack_pending == 0

        await _wait_for(caught_up, f"{expected} trades replayed, stored and acked")
    finally:
        await runtime.stop()
        await subscription.unsubscribe()
    return on_wire


async def test_replayed_files_are_stored_exactly_and_a_restart_dedupes(
    md_schema: str,
    md_settings: Callable[..., MarketDataSettings],
    db_engine: AsyncEngine,
    tmp_path: Path,
    nc: Client,
    nats_prefix: str,
) -> None:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    trades_file = tmp_path / "btc.csv"
    trades_file.write_text(TRADES_CSV)
    bars_file = tmp_path / "eth.parquet"
    pd.read_csv(pd.io.common.StringIO(BARS_CSV)).to_parquet(bars_file)
    settings = md_settings(
        md_schema,
        replay_sources=[
            ReplaySourceSettings(symbol="BTC/USDT", path=str(trades_file), speed=None),
            ReplaySourceSettings(symbol="eth-usdt", path=str(bars_file), kind="bars", speed=None),
        ],
    )
    # the second run is a restarted replay of the same files: it must re-send all 52 trades
    assert [await _replay_once(settings, db_engine, nc, md_schema, 52) for _ in range(2)] == [52, 52]
    s = md_schema
    stored = await _rows(
        db_engine,
        f"SELECT trade_id, ts_ns, price, amount FROM \"{s}\".trades WHERE symbol = 'BTC/USDT' ORDER BY ts_ns",
    )
    file_trades = trades_from_text(TRADES_CSV)
    assert stored == [(t.trade_id, t.ts_ns, t.price, t.amount) for t in file_trades]
    bars = await _rows(
        db_engine,
        f'SELECT open, high, low, close, volume, trade_count FROM "{s}".candles '
        "WHERE venue = 'replay' AND symbol = 'ETH/USDT' AND tf = '1m' ORDER BY open_ns",
    )
    expected = pd.read_csv(pd.io.common.StringIO(BARS_CSV), dtype=str)
    assert [b[:5] for b in bars] == [
        tuple(Decimal(row[f]) for f in ("open", "high", "low", "close", "volume"))
        for _, row in expected.iterrows()
    ]
    btc_1m = await _rows(
        db_engine,
        f'SELECT open_ns, open, high, low, close, volume, trade_count FROM "{s}".candles '
        "WHERE symbol = 'BTC/USDT' AND tf = '1m' ORDER BY open_ns",
    )
    points = [TradePoint(t.trade_id, t.ts_ns, t.price, t.amount) for t in file_trades]
    assert btc_1m == [
        (c.open_ns, c.open, c.high, c.low, c.close, c.volume, c.trade_count)
        for c in candles_from_trades(points, "1m")
    ]
    assert (await _rows(db_engine, f"SELECT count(*) FROM \"{s}\".instruments WHERE venue = 'replay'"))[0][
        0
    ] == 2
