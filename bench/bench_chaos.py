"""Faults under a stream of orders (issue 17, "Faults"): the whole stack (all eight services, the
fast synthetic market of the journey test, started by ``tests.e2e.conftest.running_stack``) while
users place market orders through the gateway (each retried with its client id until answered)
and bots trade on 1m bars; one user is halted (account emergency stop) before the first fault.

In turn: kill -9 and restart of each of gateway-auth, order-router, risk-monitor, strategy-runner,
market-data and analytics; kill -9 and restart of nats-server; a restart of Postgres; SIGSTOP of
risk-monitor for longer than its consumer's ack wait, then SIGCONT. After each: the orders stop,
every account settles, and the books are audited: every client id answered 201 exists exactly
once (lost, duplicates), every fill exactly once and each order's filled quantity equals its
fills, balances equal an independent fold of the fills, risk-monitor's position equals the fold,
and the halted user is still refused (409). Alerts too: before each fault a fresh user buys a
position and opens an ``alerts`` socket; during the fault its ``max_position_notional`` limit is
driven through approaching and breached (tests/e2e/alert_kit.py), and each (limit, level, episode)
alert must be in risk-monitor's store exactly once and have arrived exactly once on the socket
(which reconnects and resumes from its last stream sequence). Printed as a table: fault, orders in
flight at the fault, lost, duplicates, alerts lost, alerts doubled, time to recover (from the kill
or restart, or from SIGCONT, until a probe order is accepted and filled).

``BENCH_CHAOS_USERS`` (default 3) direct-order users, ``BENCH_CHAOS_BOTS`` (default 2) bot users,
``BENCH_CHAOS_STREAM_S`` (default 15) seconds of orders before each fault, ``BENCH_CHAOS_FAULTS``
(comma-separated words) only the faults naming one of them, ``BENCH_CHAOS_LOGS`` a folder that
keeps every service's log.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.bench_orders import exported
from bench.harness import header
from tests.e2e.alert_kit import Alerter, audit_alerts
from tests.e2e.chaos_kit import User, audit, log_in, sign_up, stream, submit
from tests.e2e.conftest import Stack, running_stack
from tests.e2e.journey_kit import FAST_MARKET, SYMBOL, UP_DOWN_GRAPH
from tradeloom.shared.streams import consumer_spec
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.postgres_server import PostgresServer

USERS = int(os.environ.get("BENCH_CHAOS_USERS", "3"))
BOTS = int(os.environ.get("BENCH_CHAOS_BOTS", "2"))
STREAM_S = float(os.environ.get("BENCH_CHAOS_STREAM_S", "15"))
KILLED = ("gateway-auth", "order-router", "risk-monitor", "strategy-runner", "market-data", "analytics")
PAUSED = "risk-monitor"
RECOVER_S = 180.0
LOGS = os.environ.get("BENCH_CHAOS_LOGS", "")  # keep the services' logs in this folder (default: dropped)
ONLY = os.environ.get("BENCH_CHAOS_FAULTS", "")  # e.g. "nats,postgres": the faults naming these words
# every simulated user signs up, logs in and logs in again after each fault from this one address:
# the per-address login bucket (10, then one per 5 s) is for one person's attempts, not for a crowd
ONE_CLIENT_MANY_USERS = {
    "TL_GATEWAY_AUTH_RATE_LOGIN_CAPACITY": "10000",
    "TL_GATEWAY_AUTH_RATE_LOGIN_PER_S": "100",
}


@dataclass
class Row:
    fault: str
    in_flight: int
    lost: int
    duplicates: int
    alerts_lost: int
    alerts_doubled: int
    recover_s: float | None
    notes: str


class Chaos:
    def __init__(self, stack: Stack, nats: NatsServer, pg: PostgresServer, http: httpx.AsyncClient) -> None:
        self.stack, self.nats, self.pg, self.http = stack, nats, pg, http
        self.users: list[User] = []
        self.bot_users: list[User] = []
        self.halted: User | None = None
        self.probe: User | None = None

    async def set_up(self) -> None:
        self.users = [await sign_up(self.http, f"trader{i}") for i in range(USERS)]
        self.bot_users = [await sign_up(self.http, f"botter{i}") for i in range(BOTS)]
        for user in self.bot_users:
            await self._start_bot(user)
        self.halted = await sign_up(self.http, "halted")
        stop = {"scope": "user", "account_id": self.halted.account_id, "reason": "chaos"}
        answer = await self.http.post("/v1/risk/emergency-stop", json=stop, headers=self.halted.headers)
        assert answer.status_code == 200, answer.text
        self.probe = await sign_up(self.http, "probe")

    async def _start_bot(self, user: User) -> None:
        made = {"name": "up-down", "kind": "graph", "graph": UP_DOWN_GRAPH}
        answer = await self.http.post("/v1/strategies", json=made, headers=user.headers)
        assert answer.status_code == 201, answer.text
        bot = {"name": "chaos bot", "strategy_id": answer.json()["strategy_id"], "strategy_version": 1,
               "account_id": user.account_id, "symbol": SYMBOL, "venue": "sim", "timeframe": "1m",
               "sizing": {"kind": "fixed", "quantity": "0.001"}, "max_position": "0.001"}  # fmt: skip
        answer = await self.http.post("/v1/bots", json=bot, headers=user.headers)
        assert answer.status_code == 201, answer.text
        bot_id = answer.json()["bot_id"]
        started = await self.http.post(f"/v1/bots/{bot_id}/start", headers=user.headers)
        assert started.status_code == 200, started.text

    def inject(self, fault: str) -> None:
        if fault == "kill -9 nats-server":
            self.nats.restart(kill=True)
        elif fault == "restart postgres":
            self.pg.restart()
        else:
            service = fault.removeprefix("kill -9 ")
            self.stack.processes[service].kill()
            self.stack.processes[service].wait(timeout=10)
            self.stack.start(service, self.stack.logs[service].parent)

    async def pause(self, service: str) -> None:
        """SIGSTOP for twice the ack wait of the service's order consumer (and 10 s more), then SIGCONT."""
        ack_wait = consumer_spec("risk_monitor_orders").backoff_s[0]
        process = self.stack.processes[service]
        process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(2 * ack_wait + 10)
        process.send_signal(signal.SIGCONT)

    async def recovered(self, started: float) -> float | None:
        """Seconds from ``started`` until a probe market order is accepted and filled."""
        assert self.probe is not None
        deadline = time.monotonic() + RECOVER_S
        while time.monotonic() < deadline:
            code = await submit(self.http, self.probe, "buy")  # 30 USDT each: the account holds 10,000
            if code == 201 and await self._filled(self.probe, deadline):
                return time.monotonic() - started
            await asyncio.sleep(0.5)
        return None

    async def _filled(self, user: User, deadline: float) -> bool:
        while time.monotonic() < deadline:
            try:
                page = await self.http.get("/v1/orders", params={"account_id": user.account_id, "limit": "1"},
                                           headers=user.headers, timeout=10)  # fmt: skip
                status = page.json()["items"][0]["status"] if page.status_code == 200 else None
                if status in ("rejected", "canceled", "expired"):
                    return False  # e.g. risk_check_unavailable while risk-monitor restarts: probe again
                if status == "filled":
                    return True
            except (httpx.HTTPError, IndexError, KeyError):
                pass
            await asyncio.sleep(0.3)
        return False

    async def alerts_audited(self, alerter: Alerter, failed: list[str], notes: list[str]) -> tuple[int, int]:
        """(lost, doubled) alerts, store and socket together, once both agree or the deadline."""
        deadline = time.monotonic() + RECOVER_S
        while True:
            result = await audit_alerts(self.http, alerter)
            if result.clean or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        if failed:
            notes.append(f"limit not driven to {', '.join(failed)}")
        if not result.clean:
            notes.append(result.note())
        notes.append(f"alerts socket connects {alerter.watch.connects}")
        return result.store_lost + result.ws_lost, result.store_doubled + result.ws_doubled

    async def settle_and_audit(
        self, fault: str, in_flight: int, recover_s: float | None, alerter: Alerter, failed: list[str]
    ) -> Row:
        everyone = [*self.users, *self.bot_users, *([self.probe] if self.probe else [])]
        for user in [*everyone, *([self.halted] if self.halted else [])]:
            await log_in(self.http, user)
        deadline = time.monotonic() + RECOVER_S
        while True:  # wait until no order is open and every book agrees (or the deadline)
            audits = [await audit(self.http, user) for user in everyone]
            settled = all(
                a.clean for a in audits
            )  # bots may have an order open: their locks are in the totals
            if settled or time.monotonic() > deadline:
                break
            await asyncio.sleep(1.0)
        notes = [n for a in audits for n in a.notes]
        assert self.halted is not None
        body = {"account_id": self.halted.account_id, "symbol": SYMBOL, "side": "buy", "type": "market",
                "quantity": "0.001"}  # fmt: skip
        refused = await self.http.post("/v1/orders", json=body, headers=self.halted.headers)
        if refused.status_code != 409:
            notes.append(f"halt lost: {refused.status_code}")
        fill_faults = sum(a.fill_duplicates + a.fill_mismatches for a in audits)
        if fill_faults:
            notes.append(f"{fill_faults} fill duplicates/mismatches")
        if not settled:
            notes.append("not settled")
        alerts_lost, alerts_doubled = await self.alerts_audited(alerter, failed, notes)
        return Row(fault, in_flight, sum(a.lost for a in audits), sum(a.duplicates for a in audits),
                   alerts_lost, alerts_doubled, recover_s, "; ".join(notes)[:240])  # fmt: skip


async def run(stack: Stack, nats: NatsServer, pg: PostgresServer) -> list[Row]:
    faults = [
        *(f"kill -9 {s}" for s in KILLED),
        "kill -9 nats-server",
        "restart postgres",
        f"SIGSTOP {PAUSED}",
    ]
    if ONLY:
        faults = [f for f in faults if any(word in f for word in ONLY.split(","))]
    rows = []
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=15) as http:
        chaos = Chaos(stack, nats, pg, http)
        await chaos.set_up()
        running, stop = asyncio.Event(), asyncio.Event()
        streams = [asyncio.create_task(stream(http, user, running, stop)) for user in chaos.users]
        ws_url = stack.gateway_url.replace("http://", "ws://") + "/v1/ws"
        for index, fault in enumerate(faults):
            alerter = await Alerter.start(http, ws_url, f"alerts{index}", RECOVER_S)
            running.set()
            await asyncio.sleep(STREAM_S)
            in_flight = sum(u.in_flight for u in chaos.users)
            driving = asyncio.create_task(alerter.drive(http, RECOVER_S))  # through the fault
            if fault.startswith("SIGSTOP"):
                await chaos.pause(PAUSED)
                started = time.monotonic()  # recovery counts from SIGCONT
            else:
                started = time.monotonic()
                await asyncio.to_thread(chaos.inject, fault)
            recover_s = await chaos.recovered(started)
            failed = await driving
            await asyncio.sleep(STREAM_S / 3)
            running.clear()
            await eventually(lambda: not any(u.in_flight for u in chaos.users), "answers", timeout=RECOVER_S)
            rows.append(await chaos.settle_and_audit(fault, in_flight, recover_s, alerter, failed))
            await alerter.watch.close()
            print(f"   {rows[-1]}", flush=True)
        stop.set()
        await asyncio.gather(*streams)
        accepted = sum(len(u.accepted) for u in chaos.users)
        unanswered = sum(len(u.unanswered) for u in chaos.users)
        refused = sum(u.refused for u in chaos.users)
        print(f"   orders answered 201: {accepted}; refused (409/422): {refused}; "
              f"never answered within the retry window: {unanswered}", flush=True)  # fmt: skip
    return rows


def report(rows: list[Row]) -> None:
    print(f"   {'fault':28} {'in flight':>9} {'lost':>5} {'dups':>5} {'alerts lost':>11} "
          f"{'alerts dup':>10} {'recover s':>9}  notes", flush=True)  # fmt: skip
    for r in rows:
        recover = "never" if r.recover_s is None else f"{r.recover_s:.1f}"
        print(f"   {r.fault:28} {r.in_flight:>9} {r.lost:>5} {r.duplicates:>5} {r.alerts_lost:>11} "
              f"{r.alerts_doubled:>10} {recover:>9}  {r.notes}", flush=True)  # fmt: skip


def main() -> None:
    header("chaos: faults under a stream of orders",
           f"{USERS} direct-order users, {BOTS} bot users, {STREAM_S:.0f} s of orders before each fault; "
           "all eight services, fast synthetic market")  # fmt: skip
    with (
        NatsServer() as nats,
        PostgresServer() as pg,
        tempfile.TemporaryDirectory() as scratch,
        exported(nats.environment()),  # NATS passwords for the streams CLI the stack start runs
        running_stack(nats, pg, "chaos", Path(LOGS or scratch), FAST_MARKET | ONE_CLIENT_MANY_USERS) as stack,
    ):
        stack.wait_all_up(timeout_s=180)
        report(asyncio.run(run(stack, nats, pg)))


if __name__ == "__main__":
    main()
