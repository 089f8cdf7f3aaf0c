"""100 running bots on the synthetic market: closed candle → the bot's order at order-router
(issue 13, "Performance": p99 < 100 ms on 2 cores for 100 bots on 1-minute candles of 10 symbols).

The path that runs: market-data (its synthetic market on ``BENCH_BOTS_SYMBOLS`` symbols, every
one starting at 100, time-scaled ``BENCH_BOTS_TIME_SCALE`` times: a 1-minute candle of every
symbol closes every 60 / scale wall seconds), order-router and strategy-runner as real processes
(``python -m tradeloom.<svc> run``) on a nats-server and a Postgres started here; risk-monitor is
replaced by a responder approving every check (this process). ``BENCH_BOTS`` bots (default 100),
one per paper account, spread over the symbols, each running the journey's up/down graph (buy on
an up bar, sell on a down bar: a bot trades on about every other bar), 0.1 a trade.

Measured over ``BENCH_BOTS_S`` wall seconds after the first orders (default 120):
- latency, from the ``candle_closed`` message (as this process receives it) to the bot order's
  first ``order_updated`` (its ``pending_new`` row) and to its ``new`` ``order_updated`` (accepted
  by order-router: the issue's measure); p50 and p99 (p99 only from >= 10,000 samples, else
  ``max of N``); client id ``bot-<bot>-<bar>``;
- each hop's median and max (``bench.bots_hops``: NATS, strategy-runner's decision, the submit,
  order-router's store, the risk answer and acceptance, the outbox relay);
- orders per second (bot orders created in the window / window);
- strategy-runner's and order-router's CPU (user + system, from /proc) per wall second.
The risk responder answers ``check`` and ``check_batch`` (approving every order).
The real target load (1-minute candles) is 100 decisions a minute; the scale multiplies it.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path

import nats
from nats.aio.msg import Msg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.bench_orders import exported
from bench.bots_hops import Recorder, report
from bench.harness import header, loadavg
from tests.e2e.conftest import running_stack
from tests.e2e.journey_kit import UP_DOWN_GRAPH
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bots import BotDecisionMade
from tradeloom.shared.contracts.market_data import CandleClosed
from tradeloom.shared.contracts.orders import OrderUpdated
from tradeloom.shared.publish import event_subject
from tradeloom.shared.rpc import ServiceClient
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.postgres_server import PostgresServer

BOTS = int(os.environ.get("BENCH_BOTS", "100"))
SYMBOLS = int(os.environ.get("BENCH_BOTS_SYMBOLS", "10"))
SCALE = float(os.environ.get("BENCH_BOTS_TIME_SCALE", "10"))
WINDOW_S = float(os.environ.get("BENCH_BOTS_S", "120"))
USERS = 10
PREFIX = "benchbots"
NAMES = ["BTC", "ETH", "SOL", "XRP", "ADA", "DOGE", "DOT", "LTC", "LINK", "AVAX", "ATOM", "NEAR"]
RUNNING = ("market-data", "order-router", "strategy-runner")
APPROVED = b'{"data":{"approved":true,"reason":null}}'


def approve_batch(data: bytes) -> bytes:
    """An approving answer to a batch check: one approval per check asked."""
    raw = json.loads(data)
    checks = raw.get("data", raw)["checks"]
    return json.dumps({"data": {"results": [{"approved": True, "reason": None} for _ in checks]}}).encode()


def market_env(symbols: list[str]) -> dict[str, str]:
    return {
        "TL_MARKET_DATA_SIM_SYMBOLS": json.dumps(symbols),
        "TL_MARKET_DATA_SIM_START_PRICES": json.dumps([100.0] * len(symbols)),
        "TL_MARKET_DATA_SIM_TIME_SCALE": str(SCALE),
        "TL_MARKET_DATA_SIM_TRADES_PER_S": "0.2",  # per market second: ~12 trades a 1m candle
        "TL_MARKET_DATA_SIM_VOLATILITY": "0.5",
        "TL_ORDER_ROUTER_RISK_CHECK_TIMEOUT_S": "5",
        "TL_STRATEGY_RUNNER_ORDER_TIMEOUT_S": "10",
        "TL_STRATEGY_RUNNER_MARKET_DATA_TIMEOUT_S": "10",
    }


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_bots(client: ServiceClient, symbols: list[str]) -> None:
    users = [f"benchbot-{i}-{uuid.uuid4().hex[:6]}" for i in range(USERS)]
    strategies = {}
    for user in users:
        caller = CallerContext(user_id=user)
        saved = await client.call_raw(
            "strategy-runner", "strategies_create",
            {"name": "up down", "kind": "graph", "graph": UP_DOWN_GRAPH}, caller=caller, timeout_s=30,
        )  # fmt: skip
        strategies[user] = saved["strategy_id"]
    for index in range(BOTS):
        user = users[index % USERS]
        caller = CallerContext(user_id=user)
        account = await client.call_raw(
            "order-router", "accounts_create", {"name": f"bot {index}"}, caller=caller, timeout_s=30
        )
        bot = await client.call_raw(
            "strategy-runner", "bots_create",
            {"name": f"bot {index}", "strategy_id": strategies[user], "strategy_version": 1,
             "account_id": account["account_id"], "symbol": symbols[index % len(symbols)],
             "timeframe": "1m", "sizing": {"kind": "fixed", "quantity": "0.1"}, "max_position": "1"},
            caller=caller, timeout_s=30,
        )  # fmt: skip
        await client.call_raw(
            "strategy-runner", "bots_start", {"bot_id": bot["bot_id"]}, caller=caller, timeout_s=30
        )


async def row_times(database_url: str, sql: str) -> dict[str, float]:
    """``client_order_id`` → its row's ``created_at`` (the writing transaction's start), wall clock."""
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return {r[0]: r[1].timestamp() for r in await conn.execute(text(sql))}
    finally:
        await engine.dispose()


async def measure(
    nats_server: NatsServer, pids: dict[str, int], symbols: list[str], env: dict[str, str]
) -> None:
    nc = await nats.connect(nats_server.url, **nats_server.client_options())
    subjects = Subjects(PREFIX)
    recorder = Recorder()

    async def approve(msg: Msg) -> None:
        recorder.on_risk(msg.data)
        await msg.respond(APPROVED if b'"checks"' not in msg.data else approve_batch(msg.data))

    subs = [
        await nc.subscribe(subjects.request("risk-monitor", "check"), cb=approve),
        await nc.subscribe(subjects.request("risk-monitor", "check_batch"), cb=approve),
        await nc.subscribe(event_subject(subjects, CandleClosed) + ".>", cb=recorder.on_candle),
        await nc.subscribe(event_subject(subjects, BotDecisionMade) + ".>", cb=recorder.on_decision),
        await nc.subscribe(event_subject(subjects, OrderUpdated) + ".>", cb=recorder.on_order),
    ]
    client = ServiceClient(nc, subjects)
    try:
        await start_bots(client, symbols)

        def trading() -> int:  # the number of orders once the bots trade
            return len(recorder.orders) if len(recorder.orders) >= min(BOTS, 10) else 0

        await eventually(trading, "the bots' first orders", timeout=300)
        since, cpu0 = time.time(), {name: cpu_s(pid) for name, pid in pids.items()}
        await asyncio.sleep(WINDOW_S)  # the measured window (a benchmark, not a test's synchronisation)
        until, cpu1 = time.time(), {name: cpu_s(pid) for name, pid in pids.items()}
    finally:
        for sub in subs:
            await sub.unsubscribe()
        await nc.close()
    decided = await row_times(
        env["TL_STRATEGY_RUNNER_DATABASE_URL"],
        "SELECT client_order_id, created_at FROM strategy_runner.bot_orders",
    )
    stored = await row_times(
        env["TL_ORDER_ROUTER_DATABASE_URL"],
        "SELECT client_order_id, created_at FROM order_router.orders WHERE client_order_id LIKE 'bot-%'",
    )
    recorder.add_rows(decided=decided, stored=stored)
    rows = recorder.window(since, until)
    orders = recorder.first_orders(since, until)
    wall = until - since
    candles = sum(1 for c in recorder.candles.values() if since <= c["candle_rx"] < until)
    print(f"  load at the end: {loadavg()}")
    print(f"  candles closed in the window: {candles} ({candles / wall:.1f}/s over {len(symbols)} symbols)")
    report(rows)
    print(f"  bot orders: {orders} in {wall:.0f} s = {orders / wall:.1f} orders/s")
    for name in pids:
        used = (cpu1[name] - cpu0[name]) / wall
        print(f"  {name} CPU: {used * 100:.1f}% of one core")
    runner_cpu = (cpu1["strategy-runner"] - cpu0["strategy-runner"]) / wall
    print(f"    strategy-runner: {runner_cpu / BOTS * 1000:.2f} ms CPU per bot per wall second")
    print("  goal (issue 13): p99 < 100 ms for 100 bots on 1m candles of 10 symbols, 2 cores")


def main() -> None:
    symbols = [f"{name}/USDT" for name in NAMES[:SYMBOLS]]
    header(
        "bench_bots: 100 running bots, candle_closed → order at order-router",
        f"{BOTS} bots over {len(symbols)} symbols of market-data's synthetic market, time x{SCALE:g} "
        f"(a 1m candle per symbol every {60 / SCALE:.1f} s: {SCALE:g}x the 1m load), "
        f"{WINDOW_S:.0f} s window; real market-data, order-router, strategy-runner processes",
    )
    with (
        NatsServer() as nats_server,
        exported(nats_server.environment()),  # NATS passwords for the streams CLI the stack start runs
        PostgresServer() as pg,
        tempfile.TemporaryDirectory() as logs,
        running_stack(
            nats_server, pg, PREFIX, Path(logs), extra_env=market_env(symbols), services=RUNNING
        ) as stack,
    ):
        stack.wait_ready()
        pids = {name: stack.processes[name].pid for name in ("strategy-runner", "order-router")}
        asyncio.run(measure(nats_server, pids, symbols, stack.env))


if __name__ == "__main__":
    main()
