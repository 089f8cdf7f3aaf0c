"""order-router and gateway-auth as real processes on one NATS prefix and one fresh database, with
stand-ins over real NATS for their other neighbours (imported by the order-stream test and by
``bench/bench_orders.py``):

- market-data's instrument registry (``svc.market-data.instruments``: BTC/USDT on ``sim``) and its
  trade stream (``TradesIngested`` on MD_TRADES, published here as market-data would);
- risk-monitor's ``svc.risk-monitor.check``: approves every order, unless ``trading_stack`` runs the
  real risk-monitor (``running=WITH_RISK``, as the order bench does) and the neighbours leave the
  check to it (``answer_risk=False``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from tests.e2e.conftest import ROOT, Stack, package, service_env
from tradeloom.shared.contracts.catalog import SERVICES
from tradeloom.shared.contracts.market_data import Instrument, TradesIngested, TradeTick
from tradeloom.shared.ids import market_data_id
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.subjects import Subjects, symbol_token
from tradeloom.shared.testing.ports import free_ports
from tradeloom.shared.testing.postgres_server import PostgresServer

RUNNING = ("order-router", "gateway-auth")
WITH_RISK = ("risk-monitor", *RUNNING)
PASSWORD = "violet-harbor-kettle-42"
BTC = Instrument(
    venue="sim", symbol="BTC/USDT", kind="spot", base="BTC", quote="USDT",
    tick_size=Decimal("0.5"), lot_size=Decimal("0.001"), min_notional=Decimal(5),
)  # fmt: skip


@dataclass
class TradingStack:
    stack: Stack
    health_urls: dict[str, str]

    @property
    def gateway_url(self) -> str:
        return self.stack.gateway_url

    @property
    def ws_url(self) -> str:
        return self.gateway_url.replace("http://", "ws://") + "/v1/ws"

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Poll each process's ``/readyz`` until it answers 200 (a dead process fails at once)."""
        deadline = time.monotonic() + timeout_s
        for service, url in self.health_urls.items():
            while True:
                process = self.stack.processes[service]
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = self.stack.logs[service].read_text(errors="replace")[-2000:]
                    raise AssertionError(f"{service} not ready (exit {process.poll()}):\n{tail}")
                try:
                    if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)


@contextmanager
def trading_stack(
    pg: PostgresServer,
    nats_url: str,
    prefix: str,
    log_dir: Path,
    extra_env: dict[str, str] | None = None,
    running: tuple[str, ...] = RUNNING,
) -> Iterator[TradingStack]:
    """A fresh database, each running service's schema migrated with its own CLI, the services up."""
    database = f"orders_{uuid.uuid4().hex[:10]}"
    pg.execute(f"CREATE DATABASE {database}")
    ports = free_ports(len(SERVICES) + 1)
    env = service_env(pg.sqlalchemy_url(database), nats_url, prefix, ports) | (extra_env or {})
    subprocess.run(
        [sys.executable, "-m", "tradeloom.shared.streams", "ensure", "--nats-url", nats_url,
         "--prefix", prefix],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    for service in running:
        subprocess.run(
            [sys.executable, "-m", f"tradeloom.{package(service)}", "migrate"],
            env=env, cwd=ROOT, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    stack = Stack(env=env, gateway_url=f"http://127.0.0.1:{ports[len(SERVICES)]}")
    health = {s: f"http://127.0.0.1:{ports[SERVICES.index(s)]}" for s in running}
    try:
        for service in running:
            stack.start(service, log_dir)
        yield TradingStack(stack, health)
    finally:
        for process in stack.processes.values():
            process.send_signal(signal.SIGTERM)
        for process in stack.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        pg.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@dataclass
class Neighbours:
    """The instrument registry, an approving risk check (unless ``answer_risk`` is off: the real
    risk-monitor answers) and a trade publisher, on one connection."""

    nc: Client
    subjects: Subjects
    answer_risk: bool = True
    risk_checks: int = 0
    _subs: list[Subscription] = field(default_factory=list)
    _trade_seq: int = 0
    _publisher: EventPublisher | None = None

    async def start(self) -> None:
        registry = self.subjects.request("market-data", "instruments")
        self._subs.append(await self.nc.subscribe(registry, cb=self._instruments))
        if self.answer_risk:
            check = self.subjects.request("risk-monitor", "check")
            self._subs.append(await self.nc.subscribe(check, cb=self._risk))

    async def stop(self) -> None:
        for sub in self._subs:
            await sub.unsubscribe()
        self._subs.clear()

    async def _instruments(self, msg: Msg) -> None:
        await msg.respond(json.dumps({"data": {"instruments": [BTC.model_dump(mode="json")]}}).encode())

    async def _risk(self, msg: Msg) -> None:
        self.risk_checks += 1
        await msg.respond(b'{"data":{"approved":true,"reason":null}}')

    async def trade(self, price: str, amount: str, *, ts_ns: int | None = None) -> None:
        """One BTC/USDT market trade on ``sim``, as market-data publishes it."""
        self._trade_seq += 1
        trade_id = f"{time.time_ns()}-{self._trade_seq}"
        tick = TradeTick.model_validate(
            {"trade_id": trade_id, "ts_ns": ts_ns or time.time_ns(), "price": price, "amount": amount,
             "side": "buy"}
        )  # fmt: skip
        event = TradesIngested(venue="sim", symbol=BTC.symbol, trades=[tick])
        if self._publisher is None:
            self._publisher = EventPublisher(self.nc.jetstream(), self.subjects, "tradeloom/market-data")
        await self._publisher.publish(
            event, "sim", symbol_token(BTC.symbol), event_id=market_data_id("sim", BTC.symbol, trade_id)
        )


def register(http: httpx.Client, email: str) -> str:
    """A new user's access token."""
    body = {"email": email, "password": PASSWORD}
    assert http.post("/v1/auth/register", json=body).status_code == 201
    return str(http.post("/v1/auth/login", json=body).json()["access_token"])
