"""``series.codec`` (migration 0014): compact times and position round-trip exactly, and a run stored
compact reads back (equity, daily PnL, positions) bit for bit as the same run stored raw, the way
every run was stored before."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.series import (
    COMPACT,
    RAW,
    pack_floats,
    pack_floats_compact,
    pack_ints,
    pack_times_compact,
    unpack_compact_floats,
    unpack_times,
)
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.backtest_engine.store.results_store import ResultsStore
from tradeloom.quant.metrics import daily_pnl
from tradeloom.shared.contracts.backtest import SubmitBacktest

HOUR_NS = 3_600 * 10**9


def test_compact_times_and_floats_round_trip_exactly() -> None:
    rng = np.random.default_rng(3)
    even = 1_704_067_200 * 10**9 + np.arange(5_000, dtype=np.int64) * HOUR_NS
    gaps = np.sort(rng.integers(0, 2**62, 1_000, dtype=np.int64))
    for times in (even, gaps, np.array([2**62 + 7], dtype=np.int64), np.empty(0, dtype=np.int64)):
        packed = pack_times_compact(times)
        np.testing.assert_array_equal(unpack_times(packed, COMPACT), times)
        assert unpack_times(pack_ints(times), RAW).tolist() == times.tolist()
    assert len(pack_times_compact(even)) < 1_000  # 40 kB of evenly spaced times
    steps = np.repeat(np.array([0.0, 1.5, -0.0, -2.25, np.inf, 0.1]), 700)
    assert unpack_compact_floats(pack_floats_compact(steps), COMPACT).tobytes() == steps.tobytes()
    assert unpack_compact_floats(pack_floats(steps), RAW).tobytes() == steps.tobytes()


async def _run(engine: AsyncEngine, schema: str) -> str:
    backtest_id = str(uuid.uuid4())
    async with engine.begin() as conn:
        await conn.execute(
            text(f'INSERT INTO "{schema}".runs (backtest_id, user_id, kind, status, strategy, params, '
                 "request) VALUES (:id, 'alice', 'backtest', 'running', 'sma_cross', '{}', '{}')"),
            {"id": backtest_id},
        )  # fmt: skip
    return backtest_id


async def test_a_compact_run_reads_back_as_the_same_run_stored_raw(
    bt_schema: str, db_engine: AsyncEngine, make_walk: Any
) -> None:
    walk = make_walk(3_000, seed=9)
    bars = BarArrays(walk["time"], walk["open"], walk["high"], walk["low"], walk["close"], walk["volume"])
    body = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "symbol": "BTC/USDT",
            "timeframe": "1h", "start": "2024-01-01T00:00:00Z", "end": "2024-06-01T00:00:00Z"}  # fmt: skip
    plan = with_bars(plan_run(SubmitBacktest.model_validate(body)), bars.time, HOUR_NS)
    outcome = run_backtest(plan, bars)
    assert outcome.position is not None and outcome.exposure is not None and len(outcome.trades) > 5
    store = ResultsStore(bt_schema)

    compact = await _run(db_engine, bt_schema)
    async with db_engine.begin() as conn:
        await store.save(conn, compact, outcome, Decimal("10000"))
    raw = await _run(db_engine, bt_schema)  # stored as before migration 0014 (codec 0)
    days, pnl = daily_pnl(outcome.equity, outcome.time, 10000.0)
    async with db_engine.begin() as conn:
        await conn.execute(
            text(f'INSERT INTO "{bt_schema}".series (backtest_id, time_ns, equity, daily_ns, daily_pnl, '
                 "position, exposure) VALUES (:id, :time, :equity, :days, :pnl, :position, :exposure)"),
            {"id": raw, "time": pack_ints(outcome.time), "equity": pack_floats(outcome.equity),
             "days": pack_ints(days), "pnl": pack_floats(pnl), "position": pack_floats(outcome.position),
             "exposure": pack_floats(outcome.exposure)},
        )  # fmt: skip

    async with db_engine.connect() as conn:
        codecs = (await conn.execute(text(f'SELECT backtest_id, codec FROM "{bt_schema}".series'))).all()
        assert {compact: COMPACT, raw: RAW}.items() <= dict(codecs).items()
        methods = await conn.execute(  # migration 0015: lz4, and the bytes read back unchanged below
            text(f"SELECT pg_column_compression(equity), pg_column_compression(exposure) "
                 f'FROM "{bt_schema}".series WHERE backtest_id = :id'),
            {"id": compact},
        )  # fmt: skip
        assert methods.one() == ("lz4", "lz4")
        read = {}
        for backtest_id in (compact, raw):
            series = await store.series(conn, backtest_id)
            daily = await store.daily(conn, backtest_id, 10000.0)
            positions = await store.positions(conn, backtest_id)
            assert series is not None and daily is not None and positions is not None
            read[backtest_id] = [a.tobytes() for a in (*series, *daily, *positions)]
    assert read[compact] == read[raw]
    want = (outcome.time, outcome.equity, days, pnl, outcome.time, outcome.position, outcome.exposure)
    assert read[compact] == [np.asarray(a).tobytes() for a in want]
