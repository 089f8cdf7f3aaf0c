"""The web dashboard (issue 18, "Performance"): page weight and time to first chart.

- **Page weight**: every file of the build (``dashboard/dist``, ``make install`` builds it), raw and
  as the gateway serves it: the precompressed ``.gz`` (level 9) and ``.br`` (quality 11) siblings the
  build writes; the JavaScript total against the goal of < 300 KB compressed (gzip, the larger).
- **Time to first chart**: the whole stack as processes (eight services, market-data's synthetic
  BTC/USDT market) on a nats-server and a Postgres started here, Debian's Chromium headless
  (Playwright, ``/usr/bin/chromium``, never downloaded) logged in once; then ROUNDS loads of
  ``/#/market`` each: the page's own ``performance.mark("first-chart")`` (set once the candles are
  drawn) read as milliseconds since navigation start. That spans the HTML, the assets, the session
  refresh from the cookie, the candles request and the drawing. *Cold*: the browser cache cleared
  before each load (every asset fetched); *warm*: the assets from the cache (``immutable``).
  Goal: first chart < 1 s on the local stack. Peer: the same page's ``DOMContentLoaded`` in the same
  load (what the HTML and script alone cost), so the ratio shows what the API round trips add.
``BENCH_QUICK=1``: 3 rounds instead of 15.
"""

from __future__ import annotations

import gzip
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from tests.e2e.conftest import ROOT, Stack, package, service_env
from tradeloom.shared.contracts.catalog import SERVICES
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_ports
from tradeloom.shared.testing.postgres_server import PostgresServer

DIST = ROOT / "dashboard" / "dist"
CHROMIUM = Path("/usr/bin/chromium")
ROUNDS = 3 if os.environ.get("BENCH_QUICK") == "1" else 15
JS_GOAL_KB = 300.0
FIRST_CHART_GOAL_MS = 1000.0
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
PASSWORD = "violet-harbor-kettle-42"


def served_size(path: Path, suffix: str) -> float | None:
    """KB of the precompressed sibling the gateway sends (``dashboard/compress.mjs`` writes it)."""
    packed = path.with_name(path.name + suffix)
    return packed.stat().st_size / 1024 if packed.is_file() else None


def page_weight() -> None:
    files = sorted(p for p in DIST.rglob("*") if p.is_file() and p.suffix not in (".gz", ".br"))
    js_raw = js_gz = js_br = 0.0
    for path in files:
        raw = path.read_bytes()
        gz = served_size(path, ".gz")
        gz = gz if gz is not None else len(gzip.compress(raw, compresslevel=9)) / 1024  # an old build
        br = served_size(path, ".br")
        br_text = f", {br:.1f} KB brotli" if br is not None else ", no brotli file"
        print(f"  {path.relative_to(DIST)}: {len(raw) / 1024:.1f} KB raw, {gz:.1f} KB gzip{br_text}")
        if path.suffix == ".js":
            js_raw += len(raw) / 1024
            js_gz += gz
            js_br += br if br is not None else gz
    verdict = "met" if js_gz < JS_GOAL_KB else "MISSED"
    print(
        f"  JavaScript total: {js_raw:.1f} KB raw, {js_gz:.1f} KB gzip, {js_br:.1f} KB as served to a "
        f"browser taking br; goal < {JS_GOAL_KB:.0f} KB: {verdict}"
    )


def start_stack(nats_server: NatsServer, pg: PostgresServer, log_dir: Path) -> Stack:
    database = f"bench_{uuid.uuid4().hex[:10]}"
    pg.execute(f"CREATE DATABASE {database}")
    prefix = f"bd{secrets.token_hex(3)}"
    ports = free_ports(len(SERVICES) + 1)
    env = service_env(pg.sqlalchemy_url(database), nats_server.url, prefix, ports) | nats_server.environment()
    ensure = [sys.executable, "-m", "tradeloom.shared.streams", "ensure", "--nats-url", nats_server.url]
    subprocess.run(
        [*ensure, "--prefix", prefix], env=os.environ | env, check=True, capture_output=True, timeout=120
    )  # the admin identity's password is in env, as the test plugin exports it
    migrations = [
        subprocess.Popen([sys.executable, "-m", f"tradeloom.{package(s)}", "migrate"], env=env, cwd=ROOT)
        for s in SERVICES
    ]
    assert [m.wait(timeout=300) for m in migrations] == [0] * len(SERVICES)
    stack = Stack(env=env, gateway_url=f"http://127.0.0.1:{ports[len(SERVICES)]}")
    for service in SERVICES:
        stack.start(service, log_dir)
    stack.wait_all_up(timeout_s=300)
    return stack


def first_chart(stack: Stack) -> None:
    from playwright.sync_api import sync_playwright

    with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
        made = http.post("/v1/auth/register", json={"email": "bench@example.com", "password": PASSWORD})
        assert made.status_code == 201, made.text
    with tempfile.TemporaryDirectory(prefix="tl-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), args=FLAGS, headless=True, base_url=stack.gateway_url
        )
        context.set_default_timeout(60_000)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/")
        page.get_by_test_id("email").fill("bench@example.com")
        page.get_by_test_id("password").fill(PASSWORD)
        page.get_by_test_id("login").click()
        page.wait_for_selector("[data-testid=candles-chart][data-loaded]")
        cdp = context.new_cdp_session(page)
        for label, cold in (("cold", True), ("warm", False)):
            charts: list[float] = []
            ready: list[float] = []
            for _ in range(ROUNDS):
                if cold:
                    cdp.send("Network.clearBrowserCache")
                page.goto("about:blank")
                page.goto("/#/market")
                page.wait_for_selector("[data-testid=candles-chart][data-loaded]")
                charts.append(page.evaluate("performance.getEntriesByName('first-chart')[0].startTime"))
                ready.append(
                    page.evaluate("performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")
                )
            chart_ms, ready_ms = statistics.median(charts), statistics.median(ready)
            verdict = "met" if chart_ms < FIRST_CHART_GOAL_MS else "MISSED"
            print(
                f"  first chart ({label} cache, {ROUNDS} loads): median {chart_ms:.0f} ms "
                f"(min {min(charts):.0f}, max {max(charts):.0f}); DOMContentLoaded {ready_ms:.0f} ms; "
                f"ratio {chart_ms / max(ready_ms, 1):.1f}x; goal < {FIRST_CHART_GOAL_MS:.0f} ms: {verdict}"
            )
        context.close()


def main() -> None:
    if not (DIST / "index.html").exists():
        print("  the dashboard is not built (make install): nothing to measure")
        return
    page_weight()
    if not CHROMIUM.exists():
        print(
            "  /usr/bin/chromium is absent (tools/system_deps.sh installs it as root): no time to first chart"
        )
        return
    with NatsServer() as nats_server, PostgresServer() as pg, tempfile.TemporaryDirectory() as logs:
        stack = start_stack(nats_server, pg, Path(logs))
        try:
            first_chart(stack)
        finally:
            for process in stack.processes.values():
                process.send_signal(signal.SIGTERM)
            for process in stack.processes.values():
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
