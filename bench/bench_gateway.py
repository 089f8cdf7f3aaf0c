"""The gateway under load on loopback: authenticated reads, a read proxied over NATS, login cost.

A uvicorn process serves the gateway app (real Postgres and NATS started here); this process is an
aiohttp load generator (CONCURRENCY connections). Measured, each with req/s, p50 and p99:
- ``GET /v1/bench/bare``: the peer: same server and middleware, no auth, no I/O (framework floor);
- ``GET /v1/users/me``: JWT check + user state (cached <= USER_CACHE_S) + rate-limit leases (Postgres
  buckets, leased in batches per replica);
- ``GET /v1/bench/echo``: the same auth, then ``svc.bench.echo`` over NATS (a tiny service in the
  server process: the request really crosses nats-server);
- ``POST /v1/auth/login``: bounded on purpose by argon2id (m=19 MiB, t=2, p=1).
Goal (issue 3): >= 2,000 req/s for the proxied read with p99 < 50 ms on 2 cores.
"""

import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import aiohttp

from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port, port_is_open
from tradeloom.shared.testing.postgres_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "gw_bench"
REQUESTS = 3000
CONCURRENCY = 32
LOGINS = 10
PASSWORD = "violet-harbor-kettle-42"


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def load(
    session: aiohttp.ClientSession, method: str, url: str, count: int, **kwargs: Any
) -> tuple[float, str]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    queue = iter(range(count))

    async def worker() -> None:
        for _ in queue:
            started = time.perf_counter()
            async with session.request(method, url, **kwargs) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    rate = count / elapsed
    return rate, (
        f"{rate:8.0f} req/s  p50 {percentile(latencies, 0.5) * 1000:6.2f} ms  "
        f"p99 {percentile(latencies, 0.99) * 1000:6.2f} ms  statuses {statuses}"
    )


async def drive(base: str) -> None:
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    async with aiohttp.ClientSession(base_url=base, connector=connector) as session:
        body = {"email": "bench@example.com", "password": PASSWORD}
        async with session.post("/v1/auth/register", json=body) as response:
            assert response.status == 201, await response.text()
        login_times = []
        for _ in range(LOGINS):
            started = time.perf_counter()
            async with session.post("/v1/auth/login", json=body) as response:
                tokens = await response.json()
            login_times.append(time.perf_counter() - started)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        for _ in range(2):  # warm-up: pools, caches, JIT-less but lazy imports
            await load(session, "GET", "/v1/bench/echo", 200, headers=headers)
        bare = await load(session, "GET", "/v1/bench/bare", REQUESTS)
        me = await load(session, "GET", "/v1/users/me", REQUESTS, headers=headers)
        echo = await load(session, "GET", "/v1/bench/echo", REQUESTS, headers=headers)
    print(f"  peer: bare route (no auth/I/O)     {bare[1]}")
    print(f"  GET /v1/users/me (JWT + state)     {me[1]}")
    print(f"  GET /v1/bench/echo (auth + NATS)   {echo[1]}")
    print(
        f"  ratio to the bare route: users/me {me[0] / bare[0]:.2f}, proxied echo {echo[0] / bare[0]:.2f} "
        "(goal: proxied >= 2,000 req/s, p99 < 50 ms on 2 cores)"
    )
    print(
        f"  login (argon2id m=19MiB t=2 p=1): median {statistics.median(login_times) * 1000:.1f} ms, "
        f"max {max(login_times) * 1000:.1f} ms (sequential, {LOGINS} logins)"
    )


def serve(database_url: str, nats_url: str, port: int) -> None:
    """The server process: gateway app + a tiny NATS service, until killed."""
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
    from tradeloom.shared.db import create_engine
    from tradeloom.shared.outbox import Outbox
    from tradeloom.shared.rpc import Operation, ServiceClient
    from tradeloom.shared.rpc import serve as serve_ops
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
        held["engine"] = create_engine(settings.sqlalchemy_url, pool_size=10)
        held["nc"] = await nats.connect(nats_url)

        async def answer(_: object, body: Echo) -> Echo:
            return body

        await serve_ops(held["nc"], service="bench", version="1.0.0", subjects=subjects,
                        operations=[Operation("echo", Echo, Echo, answer)])  # fmt: skip
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        await uvicorn.Server(config).serve()

    asyncio.run(main())


def main() -> None:
    from tradeloom.gateway_auth.app import __file__ as app_file
    from tradeloom.gateway_auth.app import find_migrations
    from tradeloom.shared.migrations import migrate

    with NatsServer() as nats_server, PostgresServer() as pg:
        pg.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        migrate(pg.sqlalchemy_url(), SCHEMA, find_migrations(app_file or ""))
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.bench_gateway",
                "serve",
                pg.sqlalchemy_url(),
                nats_server.url,
                str(port),
            ],
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 30
            while not port_is_open("127.0.0.1", port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the bench gateway did not start")
                time.sleep(0.1)
            asyncio.run(drive(f"http://127.0.0.1:{port}"))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
