"""The REAL market-data service for backtest-engine's tests: its own runtime (``build()``) on a fresh
migrated schema, same NATS prefix, fed through its real ingest (a replay source of an OHLCV bars
file: four trades per bar → persistence → 1m candles → 1h roll-ups), answering the real
``svc.market-data.candles_columns`` (readiness) and ``candles_packed`` (what the worker asks; counted).

``bars`` are the file's values as the service stores them (decimal strings parsed to float), so a
test can compute the same backtest directly; ``calls`` counts the candle requests the service
received (a plain subscription beside its queue group sees each request once).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from nats.aio.client import Client
from nats.aio.msg import Msg

from tradeloom.market_data import app as md_app
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.source_settings import ReplaySourceSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import Timeout
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

FIELDS = ("open", "high", "low", "close", "volume")


def bars_csv(walk: dict[str, np.ndarray]) -> str:
    """The walk as an OHLCV CSV (epoch milliseconds; prices in cents, volume in thousandths)."""
    lines = ["time,open,high,low,close,volume"]
    for i in range(len(walk["time"])):
        prices = ",".join(f"{float(walk[k][i]):.2f}" for k in FIELDS[:4])
        lines.append(f"{int(walk['time'][i]) // 10**6},{prices},{float(walk['volume'][i]):.3f}")
    return "\n".join(lines) + "\n"


def parsed_bars(csv: str) -> dict[str, np.ndarray]:
    rows = [line.split(",") for line in csv.splitlines()[1:]]
    bars = {k: np.array([float(r[i + 1]) for r in rows]) for i, k in enumerate(FIELDS)}
    return bars | {"time": np.array([int(r[0]) * 10**6 for r in rows], dtype=np.int64)}


class RealMarketData:
    def __init__(self, nc: Client, bars: dict[str, np.ndarray]) -> None:
        self.nc = nc
        self.bars = bars
        self.calls = 0

    async def count(self, _: Msg) -> None:
        self.calls += 1


@asynccontextmanager
async def real_market_data(
    nc: Client,
    pg_server: Any,
    database_url: str,
    nats_url: str,
    nats_prefix: str,
    walk: dict[str, np.ndarray],
    directory: Path,
    symbol: str = "BTC/USDT",
) -> AsyncIterator[RealMarketData]:
    """market-data running with ``walk`` replayed as venue ``sim``; yields once every 1h candle of it
    is served by ``candles_columns``."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    await migrate_service(md_app, database_url, schema)
    csv = bars_csv(walk)
    path = directory / "bars.csv"
    path.write_text(csv)
    replay = ReplaySourceSettings(venue="sim", symbol=symbol, path=str(path), kind="bars", speed=None)
    settings = MarketDataSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=schema,
        environment="test", health_port=free_port(), sim_symbols=[], candle_tolerance_s=0,
        replay_sources=[replay],
    )  # fmt: skip
    runtime = md_app.build(settings)
    await runtime.start()
    market = RealMarketData(nc, parsed_bars(csv))
    subjects = Subjects(nats_prefix)
    try:
        client = ServiceClient(nc, subjects)
        body = {"symbol": symbol, "timeframe": "1h", "limit": 5000}

        async def all_candles() -> bool:
            caller = CallerContext(user_id="alice")
            try:
                reply = await client.call_raw(
                    "market-data", "candles_columns", body, caller=caller, timeout_s=10
                )
            except RemoteError as error:  # the replay has not registered the symbol yet
                if error.code != "not_found":
                    raise
                return False
            except Timeout:  # busy replaying on a loaded box (CI saw a 2 s call time out): ask again
                return False
            return int(reply["count"]) == len(walk["time"])

        await eventually(all_candles, "market-data serves every replayed bar as a 1h candle", timeout=120)
        counter = await nc.subscribe(subjects.request("market-data", "candles_packed"), cb=market.count)
        try:
            yield market
        finally:
            await counter.unsubscribe()
    finally:
        await runtime.stop()
        pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
