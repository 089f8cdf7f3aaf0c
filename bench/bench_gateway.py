"""The gateway under load on loopback: authenticated reads, a read proxied over NATS, login cost.

Three processes: a uvicorn process serving the gateway app (real Postgres and NATS started here), a
separate tiny NATS service answering ``svc.bench.echo`` (so the proxied read really crosses
nats-server to another process), and the load generator (wrk when installed: ``make bench``
installs it; aiohttp otherwise). Measured in ROUNDS rounds (the three routes take turns, the order
rotating; bench.harness), LOAD_S seconds each on CONNECTIONS keep-alive connections: req/s median
(min, max) over the rounds, each round's p50/p99 (p99 only over >= 10,000 requests), and the
per-round ratio to the bare route:
- ``GET /v1/bench/bare``: the peer: same server and middleware, no auth, no I/O (framework floor);
- ``GET /v1/users/me``: JWT check + user state (cached <= USER_CACHE_S) + rate-limit leases (Postgres
  buckets, leased in batches per replica);
- ``GET /v1/bench/echo``: the same auth, then ``svc.bench.echo`` over NATS;
- ``POST /v1/auth/login``: bounded on purpose by argon2id (m=19 MiB, t=2, p=1).
Goal (issue 16): the proxied read >= 0.75x the bare route's req/s in the same run, p99 < 30 ms.
"""

import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import aiohttp

from bench.harness import P99_MIN_SAMPLES, header
from bench.http_load import LoadResult, load
from bench.loop_probe import LoopProbe
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port, port_is_open
from tradeloom.shared.testing.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "gw_bench"
LOAD_S = 5.0  # ~2,000 req/s x 5 s: a p99 from >= 10,000 requests
ROUNDS = 5
CONNECTIONS = 32
LOGINS = 10
PASSWORD = "violet-harbor-kettle-42"


async def login(base: str) -> tuple[str, list[float]]:
    """Register the bench user, then time LOGINS sequential logins; returns a token and the times."""
    async with aiohttp.ClientSession(base_url=base) as session:
        body = {"email": "bench@example.com", "password": PASSWORD}
        async with session.post("/v1/auth/register", json=body) as response:
            assert response.status == 201, await response.text()
        login_times = []
        for _ in range(LOGINS):
            started = time.perf_counter()
            async with session.post("/v1/auth/login", json=body) as response:
                tokens = await response.json()
            login_times.append(time.perf_counter() - started)
    return str(tokens["access_token"]), login_times


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drive(base: str, pids: dict[str, int]) -> None:
    """``pids``: the processes whose CPU per request each round reports (gateway, responder, NATS)."""
    token, login_times = asyncio.run(login(base))
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(2):  # warm-up: pools, caches, lazy imports, rate-limit leases
        load(f"{base}/v1/bench/echo", 1.0, CONNECTIONS, headers)
    routes = {
        "bare": (f"{base}/v1/bench/bare", {}, "bare route: same server and middleware, no auth, no I/O"),
        "users/me": (f"{base}/v1/users/me", headers, "JWT + user state + rate-limit lease"),
        "echo": (f"{base}/v1/bench/echo", headers, "the same auth, then svc.bench.echo over NATS"),
    }
    names = list(routes)
    results: dict[str, list[LoadResult]] = {name: [] for name in names}
    cpu_per_request: dict[str, list[float]] = {name: [] for name in names}
    header(f"gateway under load, {ROUNDS} rounds x {LOAD_S:g} s per route, {CONNECTIONS} connections",
           "loopback; real Postgres and NATS; echo answered by a separate process")  # fmt: skip
    for r in range(ROUNDS):
        for i in range(len(names)):
            name = names[(r + i) % len(names)]
            url, route_headers, _ = routes[name]
            before = {who: cpu_s(pid) for who, pid in pids.items()}
            result = load(url, LOAD_S, CONNECTIONS, route_headers)
            assert result.bad == 0, f"non-2xx responses under load: {result.line()}"
            results[name].append(result)
            cpu = {who: (cpu_s(pid) - before[who]) / result.requests * 1e6 for who, pid in pids.items()}
            used = ", ".join(f"{who} {us:.0f}" for who, us in cpu.items() if us >= 1)
            print(f"   round {r + 1} {name:<9} {result.line()}; CPU us/request: {used}", flush=True)
            cpu_per_request[name].append(cpu["gateway"])
    for name in names:
        rates = [x.rate for x in results[name]]
        p99s = [x.p99_s * 1000 for x in results[name] if x.requests >= P99_MIN_SAMPLES]
        worst_p99 = f"{max(p99s):.1f} ms" if p99s else "n/a (no round of >= 10k requests)"
        vs = [x.rate / b.rate for x, b in zip(results[name], results["bare"], strict=True)]
        print(f"   {name:<9} median {statistics.median(rates):,.0f} req/s (min {min(rates):,.0f}, max "
              f"{max(rates):,.0f}); worst round p99 {worst_p99}; "
              f"vs bare median {statistics.median(vs):.2f}x "
              f"(per-round {min(vs):.2f}-{max(vs):.2f}x); gateway CPU median "
              f"{statistics.median(cpu_per_request[name]):.0f} us/request; {routes[name][2]}")  # fmt: skip
    echo_vs = statistics.median(
        x.rate / b.rate for x, b in zip(results["echo"], results["bare"], strict=True)
    )
    echo_p99s = [x.p99_s for x in results["echo"] if x.requests >= P99_MIN_SAMPLES]
    met = echo_vs >= 0.75 and bool(echo_p99s) and max(echo_p99s) < 0.030
    print(f"   goal (proxied read >= 0.75x bare, p99 < 30 ms): {'met' if met else 'NOT met'}")
    print(
        f"  login (argon2id m=19MiB t=2 p=1): median {statistics.median(login_times) * 1000:.1f} ms, "
        f"max {max(login_times) * 1000:.1f} ms (sequential, {LOGINS} logins)"
    )


def production_telemetry(service: str) -> None:
    """OpenTelemetry as ``ServiceRuntime`` sets it up (SDK tracer and meter providers, Prometheus
    metrics; no span exporter unless OTEL_* says so): FastAPI's native telemetry and the spans of
    the middleware and of ``rpc`` then cost what they cost in a deployed service."""
    from prometheus_client import CollectorRegistry

    from tradeloom.shared.telemetry import Telemetry

    Telemetry(service, "bench", CollectorRegistry(), otlp_endpoint=None)


def echo_service(nats_url: str) -> None:
    """The second process: ``svc.bench.echo`` answering until killed."""
    import nats
    from pydantic import BaseModel

    from tradeloom.shared.aio import run_main
    from tradeloom.shared.rpc import Operation
    from tradeloom.shared.rpc import serve as serve_ops
    from tradeloom.shared.subjects import Subjects

    class Echo(BaseModel):
        value: int = 1

    async def main() -> None:
        production_telemetry("bench")
        nc = await nats.connect(nats_url)

        async def answer(_: object, body: Echo) -> Echo:
            return body

        await serve_ops(nc, service="bench", version="1.0.0", subjects=Subjects("bench"),
                        operations=[Operation("echo", Echo, Echo, answer, max_concurrency=256)])  # fmt: skip
        await asyncio.Event().wait()

    run_main(main())


def serve(database_url: str, nats_url: str, port: int) -> None:
    """The gateway process: the real app plus two bench routes, until killed."""
    import nats
    import uvicorn
    from fastapi import Depends
    from pydantic import BaseModel

    from tradeloom.gateway_auth.auth import CallContext, require
    from tradeloom.gateway_auth.domain.scopes import Scope
    from tradeloom.gateway_auth.gateway import Gateway
    from tradeloom.gateway_auth.http_api import create_http_app
    from tradeloom.gateway_auth.proxy import forward
    from tradeloom.gateway_auth.settings import GatewayAuthSettings
    from tradeloom.shared.aio import freeze_startup_heap, run_main
    from tradeloom.shared.db import create_engine
    from tradeloom.shared.health import http_server
    from tradeloom.shared.outbox import Outbox
    from tradeloom.shared.rpc import ServiceClient
    from tradeloom.shared.subjects import Subjects

    class Echo(BaseModel):
        value: int = 1

    settings = GatewayAuthSettings(
        database_url=database_url, nats_url=nats_url, db_schema=SCHEMA, environment="test",
        jwt_secret="bench-signing-key-" + "b" * 32, rate_ip_capacity=1e9, rate_ip_per_s=1e9,
        rate_user_capacity=1e9, rate_user_per_s=1e9, rate_login_capacity=1e6, rate_login_per_s=1e6,
    )  # fmt: skip
    subjects = Subjects("bench")
    held: dict[str, Any] = {}
    gateway = Gateway(
        settings, lambda: held["engine"], lambda: ServiceClient(held["nc"], subjects),
        lambda: Outbox(SCHEMA, subjects, "tradeloom/gateway-auth"),
    )  # fmt: skip
    app = create_http_app(gateway)
    read = require(Scope.READ)

    @app.get("/v1/bench/bare")
    async def bare() -> dict[str, int]:
        return {"value": 1}

    @app.get("/v1/bench/echo", response_model=Echo)
    async def echo(ctx: Annotated[CallContext, Depends(read)]) -> Echo:
        return await forward(ctx, "bench", "echo", Echo(), Echo)

    async def main() -> None:
        production_telemetry("gateway-auth")
        held["engine"] = create_engine(settings.sqlalchemy_url, pool_size=10)
        held["nc"] = await nats.connect(nats_url)
        server: uvicorn.Server = http_server(app, "127.0.0.1", port)  # the services' own server setup
        freeze_startup_heap()  # as ServiceRuntime.run_forever does once started
        if os.environ.get("BENCH_PROBE"):
            held["probe"] = asyncio.create_task(LoopProbe().run())
        await server.serve()

    run_main(main())


def wait_for_port(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while not port_is_open("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the bench gateway did not start")
        time.sleep(0.1)


def main() -> None:
    from tradeloom.gateway_auth.app import __file__ as app_file
    from tradeloom.gateway_auth.app import find_migrations
    from tradeloom.shared.migrations import migrate

    # without NATS users: these clients measure the transport, not who may use it
    with NatsServer(auth=False) as nats_server, PostgresServer() as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        migrate(pg.sqlalchemy_url(), SCHEMA, find_migrations(app_file or ""))
        port = free_port()
        module = [sys.executable, "-m", "bench.bench_gateway"]
        echo = subprocess.Popen([*module, "echo", nats_server.url], cwd=ROOT)
        server = subprocess.Popen(
            [*module, "serve", pg.sqlalchemy_url(), nats_server.url, str(port)], cwd=ROOT
        )
        try:
            wait_for_port(server, port)
            pids = {"gateway": server.pid, "responder": echo.pid}
            if nats_server._proc is not None:  # the bench's own nats-server (not a shared one)
                pids["nats-server"] = nats_server._proc.pid
            drive(f"http://127.0.0.1:{port}", pids)
        finally:
            for process in (server, echo):
                process.terminate()
                process.wait(timeout=10)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1:2] == ["echo"]:
        echo_service(sys.argv[2])
    else:
        main()
