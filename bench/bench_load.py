"""Load (issue 17, "Load"): simulated users (bench/load_users.py: a WebSocket on prices, orders and
positions each, and a REST mix of market data reads, portfolio reads, order reads and paper
orders) against the whole stack, for a sustained window (>= 60 s). Printed: p50 and p99 per route
class (the p99 only from >= 10,000 samples, else "max of N"), errors (5xx and transport), 4xx by
status, WebSocket events received and sockets lost, and for each service process its memory (RSS)
and open TCP connections before the users, when they are all connected, at the end, and after
they left: flat memory and connections back to the baseline show no leak. Also each process's CPU
seconds over the measured window (nats-server's too when the bench started it) and the number of
JetStream consumers on the server at each of those points (its monitoring ``/jsz``).

By default the stack is started here as ``make run`` runs it (all eight services, real NATS and
Postgres, the default synthetic market) on free ports, with the gateway trusting the local
proxy so each simulated user is its own client address. ``--url`` points at a running stack
instead (start ``make run`` with ``TL_GATEWAY_AUTH_TRUSTED_PROXIES=127.0.0.1/32``, or all users
share one address's rate limits); its processes are found by command line for the figures.

``python -m bench.bench_load [--users 500] [--seconds 60] [--think 1.0] [--soak SECONDS]``:
``--think`` is each user's mean pause between calls (exponential), so the offered rate is about
users / think calls a second; ``--soak`` replaces ``--seconds`` and samples memory every minute.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import psutil

from bench.bench_orders import exported
from bench.harness import header, percentile_line, require_sustained
from bench.load_users import Figures, SimUser
from bench.soak_report import SoakMinutes
from tests.e2e.conftest import running_stack
from tests.e2e.journey_kit import FAST_MARKET
from tradeloom.shared.contracts.catalog import SERVICES
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.postgres_server import PostgresServer

SIGN_UP_CONCURRENCY = 20
CLASSES = ("login", "ws_connect", "market", "portfolio", "orders_read", "order_submit", "ws_fanout")


def service_processes(pids: dict[str, int] | None) -> dict[str, psutil.Process]:
    """The eight service processes: the given pids, or found by ``-m tradeloom.<package> run``."""
    if pids is not None:
        return {name: psutil.Process(pid) for name, pid in pids.items()}
    found: dict[str, psutil.Process] = {}
    for process in psutil.process_iter(["cmdline"]):
        line = " ".join(process.info["cmdline"] or [])
        for service in SERVICES:
            if f"tradeloom.{service.replace('-', '_')} run" in line:
                found[service] = process
    return found


@dataclass
class Servers:
    """What the bench knows of the stack: the services' pids, and nats-server's when it started it."""

    url: str
    pids: dict[str, int] | None
    nats_monitor: str = ""  # nats-server's monitoring URL (consumer counts)


def jetstream_consumers(monitor_url: str) -> int | None:
    """Every JetStream consumer on the server (durables and the gateway's ephemeral ones)."""
    if not monitor_url:
        return None
    with (
        contextlib.suppress(OSError, ValueError, KeyError),
        urllib.request.urlopen(f"{monitor_url}/jsz", timeout=5) as answer,
    ):
        return int(json.load(answer)["consumers"])
    return None


def cpu_seconds(processes: dict[str, psutil.Process]) -> dict[str, float]:
    """User + system CPU seconds used so far, per process."""
    used = {}
    for name, process in processes.items():
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            used[name] = times.user + times.system
    return used


def snapshot(processes: dict[str, psutil.Process]) -> dict[str, tuple[float, int]]:
    """(RSS MiB, open TCP connections) per process."""
    figures = {}
    for name, process in processes.items():
        with contextlib.suppress(psutil.Error):
            rss = process.memory_info().rss / 2**20
            figures[name] = (rss, len(process.net_connections(kind="tcp")))
    return figures


def show_processes(snapshots: dict[str, dict[str, tuple[float, int]]]) -> None:
    labels = list(snapshots)
    print(f"   {'process':18} " + "  ".join(f"{label:>22}" for label in labels), flush=True)
    print(f"   {'':18} " + "  ".join(f"{'RSS MiB / TCP conns':>22}" for _ in labels), flush=True)
    for name in snapshots[labels[0]]:
        cells = [snapshots[label].get(name) for label in labels]
        text = [f"{c[0]:14.1f} / {c[1]:5d}" if c else f"{'gone':>22}" for c in cells]
        print(f"   {name:18} " + "  ".join(f"{t:>22}" for t in text), flush=True)


async def drive(stack: Servers, args: argparse.Namespace, processes: dict[str, psutil.Process]) -> None:
    url = stack.url
    seconds = args.soak or args.seconds
    require_sustained(seconds)
    figures = Figures(recording=True)  # sign-up latencies count under "login" and "ws_connect"
    snapshots = {"before users": snapshot(processes)}
    consumers = {"before users": jetstream_consumers(stack.nats_monitor)}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(base_url=url, connector=connector, timeout=timeout) as http:
        users = [SimUser(i, http, figures, args.think) for i in range(args.users)]
        gate = asyncio.Semaphore(SIGN_UP_CONCURRENCY)

        async def signed_up(user: SimUser) -> bool:
            async with gate:
                return await user.sign_up()

        started = time.monotonic()
        ready = [u for u, ok in zip(users, await asyncio.gather(*map(signed_up, users)), strict=True) if ok]
        print(f"   signed up and connected: {len(ready)} of {args.users} users in "
              f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
        snapshots["users connected"] = snapshot(processes)
        consumers["users connected"] = jetstream_consumers(stack.nats_monitor)
        stop = asyncio.Event()
        runs = [asyncio.create_task(u.run(stop)) for u in ready]
        started = time.monotonic()
        cpu_before = cpu_seconds(processes)
        minutes = SoakMinutes(figures.latencies)
        while time.monotonic() - started < seconds:
            await asyncio.sleep(min(60.0, seconds - (time.monotonic() - started)))
            if args.soak:
                rss = {n: r for n, (r, _) in snapshot(processes).items()}
                print(minutes.line(time.monotonic() - started, rss, stack.nats_monitor), flush=True)
        stop.set()
        await asyncio.gather(*runs)
        elapsed = time.monotonic() - started
        cpu = {n: used - cpu_before.get(n, 0.0) for n, used in cpu_seconds(processes).items()}
        snapshots["end"] = snapshot(processes)
        consumers["end"] = jetstream_consumers(stack.nats_monitor)
        for user in ready:
            await user.close()
    await asyncio.sleep(2.0)  # the gateway notices the closed sockets
    snapshots["users gone"] = snapshot(processes)
    consumers["users gone"] = jetstream_consumers(stack.nats_monitor)
    report(figures, elapsed, len(ready))
    show_processes(snapshots)
    shares = [f"{name} {used:.1f} ({100 * used / elapsed:.0f} %)" for name, used in cpu.items()]
    print("   CPU s over the window (% of one core): " + ", ".join(shares), flush=True)
    print(f"   JetStream consumers on the server: {consumers}", flush=True)
    if args.soak:
        print(minutes.summary(), flush=True)


def report(figures: Figures, elapsed: float, users: int) -> None:
    calls = sum(len(v) for k, v in figures.latencies.items() if k not in ("login", "ws_connect", "ws_fanout"))
    print(f"   sustained {elapsed:.0f} s, {users} users: {calls:,} REST calls ({calls / elapsed:.0f}/s); "
          f"load now {Path('/proc/loadavg').read_text().split()[:3]}", flush=True)  # fmt: skip
    for kind in CLASSES:
        samples = figures.latencies.get(kind, [])
        print(f"   {kind:13} {percentile_line(samples)}; errors {figures.errors[kind]}", flush=True)
    print(f"   4xx by status: {dict(figures.refused) or 'none'}; WebSocket events received "
          f"{figures.ws_events:,}", flush=True)  # fmt: skip
    print(f"   sockets closed during the run, by close code: {dict(figures.ws_lost) or 'none'}", flush=True)


@contextlib.contextmanager
def own_stack() -> Iterator[tuple[Servers, psutil.Process | None]]:
    """The stack ``make run`` runs (its default synthetic market: BTC/USDT and ETH/USDT, 5 trades a
    second each), on free ports; the gateway trusts the local proxy, and the deadlines between
    services are the journey's for a loaded 2-core box."""
    deadlines = {name: value for name, value in FAST_MARKET.items() if name.endswith("TIMEOUT_S")}
    trusted = {"TL_GATEWAY_AUTH_TRUSTED_PROXIES": "127.0.0.1/32"}
    with (
        NatsServer() as nats,
        PostgresServer() as pg,
        tempfile.TemporaryDirectory() as logs,
        exported(nats.environment()),
        running_stack(nats, pg, "load", Path(logs), deadlines | trusted) as stack,
    ):
        stack.wait_all_up(timeout_s=180)
        pids = {name: p.pid for name, p in stack.processes.items()}
        server = nats._proc  # the bench's own server: its CPU is part of the figures
        yield (
            Servers(stack.gateway_url, pids, nats.monitor_url),
            psutil.Process(server.pid) if server else None,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between a user's calls")
    parser.add_argument("--soak", type=float, default=0.0, help="a long run of this many seconds")
    parser.add_argument("--url", default="", help="a running stack's gateway (default: start one)")
    args = parser.parse_args()
    where = f"stack at {args.url}" if args.url else "own stack (as make run), default synthetic market"
    header("load: simulated users against the whole stack",
           f"{args.users} users, think {args.think} s (offered ~{args.users / args.think:.0f} calls/s), "
           f"{args.soak or args.seconds:.0f} s; {where}")  # fmt: skip
    if args.url:
        asyncio.run(drive(Servers(args.url, None), args, service_processes(None)))
        return
    with own_stack() as (stack, nats_process):
        processes = service_processes(stack.pids)
        if nats_process is not None:
            processes["nats-server"] = nats_process
        asyncio.run(drive(stack, args, processes))


if __name__ == "__main__":
    main()
