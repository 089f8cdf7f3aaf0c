"""Market orders on a paper account, from ``POST /v1/orders`` at the gateway to the ``filled``
message on the user's WebSocket (issue 11, "Performance").

The path that runs: gateway-auth, risk-monitor and order-router as real processes (``python -m
tradeloom.<svc> run``, default settings except the gateway's rate limits and socket buffer, raised
so the bench measures the pipeline, not the throttle) on a nats-server and a Postgres started here;
one *neighbours* process (``bench/order_load.py``) standing in for market-data (instrument registry
and a SYNTHETIC TRADE PUBLISHER at TRADES_PER_S one-trade messages per second, price 30000).
``BENCH_RISK=stub`` replaces risk-monitor by a MINIMAL RESPONDER in the neighbours that approves
everything (the router's side of the check alone; the default runs the real check, no limits set);
``BENCH_TRADES_PER_S`` sets the trade rate (default 20, as when order-router's paper consumer applied
one trade message per transaction and saturated at 25-50/s, so figures compare; it now applies each
fetched batch in one transaction);
the load generator (this process: aiohttp, open loop, and one WebSocket on channel ``orders``).

Measured:
- the highest sustained rate: probes of PROBE_S s at rising rates until one is not clean (an error,
  an order whose ``filled`` never came within 5 s, or the rate not really offered), then the best
  clean rate held for SUSTAIN_S s (>= 60 s), one step lower if that fails.
- then 200 orders/s in ROUNDS rounds of ROUND_S s (last: an overloaded round leaves a backlog;
  between steps the bench waits until the socket is quiet, at most a minute): p50 and p99 per
  round (median, min..max over the rounds) and pooled over every sample (>= 10,000 in the full
  run); the latency includes the wait for the next market trade (mean 1 / (2 * TRADES_PER_S)).
- the share of each hop (means over the 200 orders/s samples, or the best clean probe's if
  200/s filled too few), from the events' own timestamps:
  gateway + router intake (POST sent → order row created), risk check (→ ``new`` event), wait for
  the next trade (→ the filling trade's time), paper match (→ ``filled`` event written: the trade
  crossing NATS to order-router's consumer and its transaction), event fan-out (outbox →
  JetStream → gateway → the socket).
Goal on 2 cores: p50 < 10 ms and p99 < 50 ms at 200 orders/s, >= 1,000 orders/s sustained.
- CPU per order (first, right after the warm-up): each service process's user + system CPU
  (``/proc/<pid>/stat``) over CPU_ROUNDS rounds of CPU_ROUND_S s at ``BENCH_CPU_RATE`` orders/s
  (default 20), printed raw and net of the idle cost (an idle window first: the trade stream and
  the housekeeping loops cost CPU without any order). ``BENCH_CPU_ONLY=1`` stops after this step.
``BENCH_ORDERS_ROUNDS`` (5) sets the number of 200 orders/s rounds (0: none, for A/B runs of the rate).
``BENCH_QUICK=1``: a smoke run (2 s rounds, two probes, a 5 s "sustained" step): not the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.harness import P99_MIN_SAMPLES, loadavg, percentile_line
from bench.http_load import percentile
from bench.order_load import PRICE, OrderLoad, RateResult
from tests.e2e.order_stack import RUNNING, WITH_RISK, register, trading_stack
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
QUICK = os.environ.get("BENCH_QUICK") == "1"
PREFIX = "bench"
TRADES_PER_S = float(os.environ.get("BENCH_TRADES_PER_S", "20"))
RISK = os.environ.get("BENCH_RISK", "real")  # "stub": the neighbours' approving responder
ROUNDS = int(os.environ.get("BENCH_ORDERS_ROUNDS", "5"))  # 0: stop after the sustained rate
ROUND_S = 2.0 if QUICK else 12.0
PROBE_S = 2.0 if QUICK else 10.0
SUSTAIN_S = 5.0 if QUICK else 60.0
PROBES = (10.0, 25.0) if QUICK else (10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 700.0, 1000.0, 1300.0)
CPU_RATE = float(os.environ.get("BENCH_CPU_RATE", "20"))
CPU_ONLY = os.environ.get("BENCH_CPU_ONLY") == "1"
CPU_ROUNDS, CPU_ROUND_S, IDLE_S = 3, (3.0 if QUICK else 10.0), (3.0 if QUICK else 5.0)
QUIET_S, SETTLE_LIMIT_S = 2.0, 60.0  # between steps: until the socket is quiet (a backlog drained)
GATEWAY_ENV = {
    f"TL_GATEWAY_AUTH_RATE_{bucket}_{kind}": "1000000000"
    for bucket in ("IP", "USER", "ORDERS")
    for kind in ("CAPACITY", "PER_S")
} | {"TL_GATEWAY_AUTH_WS_MAX_BUFFER": "1000000"}


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def line(result: RateResult) -> str:
    lat = result.latencies
    p50 = ms(percentile(lat, 0.5)) if lat else "-"
    if len(lat) >= P99_MIN_SAMPLES:
        p99 = f"p99 {ms(percentile(lat, 0.99))} ms"
    else:
        p99 = f"max of {len(lat)} {ms(max(lat))} ms" if lat else "p99 -"
    return (
        f"{result.rate:6.0f}/s offered, {result.achieved:6.0f}/s sent, p50 {p50} ms, {p99}, "
        f"{len(result.samples)} orders, {result.errors} errors, {result.missing} not filled, "
        f"statuses {result.statuses}: {'clean' if result.clean else 'NOT clean'}"
    )


def first_order(base: str, headers: dict[str, str], account_id: str) -> None:
    """Wait until order-router has a last price from the trade stream (a market order needs one)."""
    body = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "type": "market",
            "quantity": "0.001"}  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = httpx.post(f"{base}/v1/orders", headers=headers, json=body, timeout=10)
        if answer.is_success:
            return
        time.sleep(0.2)
    raise RuntimeError(f"no order accepted: {answer.text}")


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User + system CPU time so far of each of these processes (``/proc/<pid>/stat``)."""
    spent = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        spent[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return spent


async def cpu_per_order(load: OrderLoad, pids: dict[str, int]) -> None:
    """CPU of each service process per order at CPU_RATE orders/s, raw and net of its idle cost."""
    before, started = cpu_seconds(pids), time.monotonic()
    await asyncio.sleep(IDLE_S)
    after, idle_wall = cpu_seconds(pids), time.monotonic() - started
    idle = {name: (after[name] - before[name]) / idle_wall for name in pids}  # CPU s per s
    raw: dict[str, float] = dict.fromkeys(pids, 0.0)
    net: dict[str, float] = dict.fromkeys(pids, 0.0)
    orders = 0
    for index in range(CPU_ROUNDS):
        before, started = cpu_seconds(pids), time.monotonic()
        result = await load.rate(CPU_RATE, CPU_ROUND_S)
        after, wall = cpu_seconds(pids), time.monotonic() - started
        orders += len(result.samples)
        for name in pids:
            raw[name] += after[name] - before[name]
            net[name] += after[name] - before[name] - idle[name] * wall
        print(f"    cpu round {index + 1}: {line(result)} (load {loadavg()})", flush=True)
        await settle(load)
    for label, spent in (("raw", raw), ("net of idle", net)):
        each = ", ".join(f"{name} {1000 * value / orders:.1f}" for name, value in spent.items())
        print(
            f"  CPU per order at {CPU_RATE:.0f}/s, {label}: {1000 * sum(spent.values()) / orders:.1f} ms "
            f"({each} ms; {orders} orders)",
            flush=True,
        )
    each = ", ".join(f"{name} {1000 * value:.0f}" for name, value in idle.items())
    print(f"  idle CPU: {each} ms per s; load {loadavg()} on {os.cpu_count()} cores", flush=True)


async def measure(
    base: str, token: str, account_id: str, pids: dict[str, int]
) -> tuple[list[RateResult], list[RateResult], list[RateResult]] | None:
    async with OrderLoad(base, token, account_id) as load:
        await load.rate(5.0, 2.0)  # warm-up: connections, caches, lazy imports, the first fill's JIT
        await settle(load)
        await cpu_per_order(load, pids)
        if CPU_ONLY:
            return None
        return await _measure(load)


async def settle(load: OrderLoad) -> None:
    took = await load.quiet(QUIET_S, SETTLE_LIMIT_S)
    if took > 2 * QUIET_S:
        print(f"    (settled {took:.0f} s after the step before the next)", flush=True)


async def _measure(load: OrderLoad) -> tuple[list[RateResult], list[RateResult], list[RateResult]]:
    """Rising probes first (an overloaded step leaves order-router a backlog for minutes: the
    gateway gives up with 504 but the queued submissions still run), then the best clean rate held,
    then the 200 orders/s rounds."""
    probes: list[RateResult] = []
    for rate in PROBES:
        probes.append(await load.rate(rate, PROBE_S))
        print(f"    probe: {line(probes[-1])}", flush=True)
        await settle(load)
        if not probes[-1].clean:
            break
    sustained: list[RateResult] = []
    for rate in [p.rate for p in probes if p.clean][::-1][:2]:
        sustained.append(await load.rate(rate, SUSTAIN_S))
        print(f"    sustained: {line(sustained[-1])}", flush=True)
        await settle(load)
        if sustained[-1].clean:
            break
    rounds: list[RateResult] = []
    for index in range(ROUNDS):
        rounds.append(await load.rate(200.0, ROUND_S))
        print(f"    round {index + 1}: {line(rounds[-1])}", flush=True)
        await settle(load)
    return rounds, probes, sustained


def spread(values: list[float]) -> str:
    if not values:
        return "- (no order filled)"
    return f"median {ms(statistics.median(values))} ms (min {ms(min(values))}, max {ms(max(values))})"


def report(rounds: list[RateResult], probes: list[RateResult], sustained: list[RateResult]) -> None:
    p50s = [percentile(r.latencies, 0.5) for r in rounds if r.latencies]
    p99s = [percentile(r.latencies, 0.99) for r in rounds if r.latencies]  # each round's 99th (< 10k each)
    pooled = [x for r in rounds for x in r.latencies]
    errors = sum(r.errors + r.missing for r in rounds)
    print(f"  200 orders/s, {len(rounds)} rounds of {ROUND_S:.0f} s (after the probes):")
    for result in rounds:
        print(f"    {line(result)}")
    print(f"    per round: p50 {spread(p50s)}; 99th percentile of a round (< 10,000 samples) {spread(p99s)}")
    p50 = percentile(pooled, 0.5) if pooled else float("inf")
    p99 = percentile(pooled, 0.99) if pooled else float("inf")
    print(f"    pooled: {percentile_line(pooled)}; {errors} errors")
    hops = [h for r in rounds for s in r.samples.values() if r.in_time(s) and (h := s.hops()) is not None]
    where = "200 orders/s"
    if len(hops) < 100:  # 200/s overloaded it: the best clean probe shows where the time goes
        best = max((p for p in probes if p.clean), key=lambda p: p.rate, default=None)
        if best is not None:
            hops = [h for s in best.samples.values() if best.in_time(s) and (h := s.hops()) is not None]
            where = f"{best.rate:.0f} orders/s (200/s filled too few)"
    means = {name: statistics.fmean(h[name] for h in hops) for name in hops[0]} if hops else {}
    total = sum(means.values()) or 1.0
    print(f"  hops at {where} (means over {len(hops)} orders; share of their sum):")
    for name, mean in means.items():
        median = statistics.median(h[name] for h in hops)
        print(f"    {name:30s} mean {ms(mean):>6} ms  median {ms(median):>6} ms  {100 * mean / total:5.1f} %")
    print(f"  rate probes of {PROBE_S:.0f} s (rising until one is not clean):")
    for result in probes:
        print(f"    {line(result)}")
    print(f"  sustained ({SUSTAIN_S:.0f} s{', quick: NOT a 60 s figure' if QUICK else ''}):")
    for result in sustained:
        print(f"    {line(result)}")
    top = max((r.rate for r in sustained if r.clean), default=0.0)
    met = p50 < 0.010 and p99 < 0.050 and top >= 1000 and errors == 0
    print(
        f"  highest sustained rate with no errors: {top:.0f} orders/s; goal (p50 < 10 ms, p99 < 50 ms at "
        f"200/s, >= 1,000/s sustained): {'met' if met else 'NOT met'}"
    )


@contextlib.contextmanager
def exported(variables: dict[str, str]) -> Iterator[None]:
    """``variables`` in this process's environment (and its children's) while the bench runs."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def main() -> None:
    stub = RISK == "stub"
    risk = "MINIMAL RISK RESPONDER (approves all) in the neighbours" if stub else "risk-monitor process"
    print(
        f"  path: gateway-auth + order-router processes, {risk}, real NATS + Postgres; neighbours "
        f"process = instrument registry, SYNTHETIC TRADE PUBLISHER {TRADES_PER_S:.0f} trades/s at "
        f"{PRICE}; client: aiohttp open loop + one WebSocket"
        + (" [BENCH_QUICK=1 smoke run]" if QUICK else ""),
        flush=True,
    )
    with (
        NatsServer() as nats_server,
        PostgresServer() as pg,
        tempfile.TemporaryDirectory() as logs,
        exported(nats_server.environment()),  # NATS passwords: the streams CLI and the neighbours
        trading_stack(
            pg,
            nats_server.url,
            PREFIX,
            Path(logs),
            GATEWAY_ENV | nats_server.environment(),
            running=RUNNING if stub else WITH_RISK,
        ) as stack,
    ):
        stack.wait_ready()
        module = [sys.executable, "-m", "bench.order_load", nats_server.url, PREFIX, str(TRADES_PER_S), RISK]
        stand_ins = subprocess.Popen(module, cwd=ROOT)
        try:
            with httpx.Client(base_url=stack.gateway_url, timeout=10) as http:
                headers = {"Authorization": f"Bearer {register(http, 'bench@example.com')}"}
                balances = [{"asset": "USDT", "amount": "100000000"}]
                made = http.post(
                    "/v1/accounts", headers=headers, json={"name": "bench", "balances": balances}
                )
                assert made.status_code == 201, made.text
            account_id = str(made.json()["account_id"])
            first_order(stack.gateway_url, headers, account_id)
            pids = {name: process.pid for name, process in stack.stack.processes.items()}
            measured = asyncio.run(measure(stack.gateway_url, headers["Authorization"][7:], account_id, pids))
            if measured is not None:
                report(*measured)
        finally:
            stand_ins.terminate()
            stand_ins.wait(timeout=10)


if __name__ == "__main__":
    main()
