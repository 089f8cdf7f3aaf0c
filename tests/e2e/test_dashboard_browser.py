"""The web dashboard in a real browser: Debian's Chromium, headless, driven by Playwright against
the whole stack (eight service processes, market-data's synthetic BTC/USDT market).

One walk through what a trader does: log in, watch BTC/USDT candles update from the WebSocket,
see an order's validation error next to its field, place a paper market order and see its fill and
the position, add an exchange connection, create and start a bot (and change its symbols: a
running bot's new list shows as waiting for its next start), run a backtest (over an uploaded
dataset: a fresh stack has no market history yet) and see its equity chart, trip the emergency
stop; then the market page at a phone's width. The connection's venue is order-router's stand-in
Binance (a real process speaking Binance's signed REST API to the real ccxt; order-router's
``binance`` endpoints point at it): a key that may withdraw is refused until the box is ticked,
then only its last four characters show, its test answers with the latency, its venue balances
show, and it is deleted. A screenshot of each step is kept in
``<pytest basetemp>/artifacts/dashboard-browser``
(or ``$TL_TEST_ARTIFACTS/dashboard-browser``). Skipped only when ``/usr/bin/chromium`` is absent
(``tools/system_deps.sh`` installs it as root); the browser is never downloaded.
"""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ccxt
import httpx
import pytest

from tests.e2e.conftest import ROOT, Stack, running_stack
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = pytest.mark.e2e
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "violet-harbor-kettle-42"
EMAIL = "browser@example.com"
WAIT_MS = 30_000
NONZERO = re.compile(r"^[1-9][0-9]*$")
# no GPU, no QUIC, none of the browser's own background traffic (the network is closed)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

if not CHROMIUM.exists():
    pytest.skip(
        "/usr/bin/chromium is absent (tools/system_deps.sh installs it as root)", allow_module_level=True
    )
if not (ROOT / "dashboard" / "dist" / "index.html").exists():
    pytest.fail("the dashboard is not built: run make install (npm ci + npm run build)")

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

STANDIN = ROOT / "services" / "order-router" / "tests" / "standin_venue" / "launcher.py"


def _standin_launcher() -> Any:
    """order-router's stand-in venue launcher, loaded by path (its tests are not a package)."""
    spec = importlib.util.spec_from_file_location("standin_launcher", STANDIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bars_csv(n: int = 400) -> str:
    """Hourly bars with a wave in them, so an SMA cross trades."""
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(n):
        o = 100 + 10 * ((i // 25) % 2) + (i % 25) * (0.4 if (i // 25) % 2 == 0 else -0.4)
        c = o + (0.3 if i % 2 else -0.3)
        lines.append(
            f"{1_704_067_200_000 + i * 3_600_000},{o},{max(o, c) + 0.5},{min(o, c) - 0.5},{c},{1 + i % 5}"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = os.environ.get("TL_TEST_ARTIFACTS")
    root = Path(base) if base else tmp_path_factory.getbasetemp() / "artifacts"
    path = root / "dashboard-browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def venue(tmp_path: Path) -> Iterator[Any]:
    """The stand-in Binance spot venue: one process on a free port, killed afterwards."""
    launcher = _standin_launcher()
    standin = launcher.StandinVenue(tmp_path / "venue.json", launcher.API_KEY, launcher.SECRET)
    asyncio.run(standin.start())
    try:
        yield standin
    finally:
        standin.kill()


@pytest.fixture
def stack(
    nats_server: NatsServer, pg_server: PostgresServer, nats_prefix: str, tmp_path: Path, venue: Any
) -> Iterator[Stack]:
    """All eight services (the e2e ``stack``), order-router with credential keys and its ``binance``
    endpoints at the stand-in venue (``TL_ORDER_ROUTER_VENUE_API_URLS``, as for a regional host)."""
    urls = venue.ccxt_api_urls(ccxt.binance().urls["api"])
    extra = {
        "TL_ORDER_ROUTER_CREDENTIAL_KEYS": "1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "TL_ORDER_ROUTER_VENUE_API_URLS": json.dumps({"binance": urls}),
        "TL_ORDER_ROUTER_VENUE_OPTIONS": json.dumps({"binance": {"fetchMarkets": {"types": ["spot"]}}}),
        # a key is checked live with the venue before the reply: on a busy 2-core box that takes
        # longer than the 2 s production deadline (as in the journey test)
        "TL_GATEWAY_AUTH_PROXY_TIMEOUT_S": "10",
    }
    with running_stack(nats_server, pg_server, nats_prefix, tmp_path, extra_env=extra) as running:
        yield running


@pytest.fixture
def user(stack: Stack) -> str:
    """A user with a dataset to backtest (uploaded through the API, as the CLI or a script would)."""
    stack.wait_all_up()
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as http:
        made = http.post("/v1/auth/register", json={"email": EMAIL, "password": PASSWORD})
        assert made.status_code == 201, made.text
        headers = {"Authorization": f"Bearer {made.json()['tokens']['access_token']}"}
        upload = http.post("/v1/datasets", params={"name": "wave"}, content=bars_csv(), headers=headers)
        assert upload.status_code == 201, upload.text
        return str(upload.json()["dataset_id"])


@pytest.fixture
def page(stack: Stack) -> Iterator[Page]:
    with tempfile.TemporaryDirectory(prefix="tl-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,  # a fresh --user-data-dir
            executable_path=str(CHROMIUM),
            args=FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 860},
            base_url=stack.gateway_url,
        )
        context.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        yield context.new_page()
        context.close()


# the stack's start (setup) counts in pytest-timeout's 180 s; on a loaded box it alone takes ~2 min
@pytest.mark.timeout(420)
def test_a_trader_walks_through_the_dashboard(
    stack: Stack, venue: Any, user: str, page: Page, artifacts: Path
) -> None:
    dataset_id = user
    errors: list[str] = []  # uncaught exceptions in the page (an API error shown on the page is not one)
    page.on("pageerror", lambda error: errors.append(str(error)))
    scripts: list[dict[str, str]] = []  # the served script's headers: precompressed, with Vary
    page.on(
        "response",
        lambda r: scripts.append(r.headers) if "/assets/" in r.url and r.url.endswith(".js") else None,
    )

    page.goto("/")
    page.get_by_test_id("email").fill(EMAIL)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login").click()
    expect(page.get_by_test_id("nav-market")).to_be_visible()
    page.screenshot(path=artifacts / "1-logged-in.png")
    assert scripts and scripts[0].get("content-encoding") in ("br", "gzip"), scripts
    assert scripts[0].get("vary") == "Accept-Encoding", scripts

    # candles of BTC/USDT, then live trades move the last candle
    expect(page.get_by_test_id("chart-status")).to_contain_text("candles of BTC/USDT 1m")
    first = page.get_by_test_id("last-price").inner_text()
    expect(page.get_by_test_id("live-updates")).not_to_have_text("0")
    expect(page.get_by_test_id("live-updates")).not_to_have_text("1")
    expect(page.get_by_test_id("last-price")).not_to_have_text("–")
    page.screenshot(path=artifacts / "2-market-live.png")
    assert page.get_by_test_id("order-book").locator("table.bids tr").count() > 0, first

    # trading: the API's 422 lands next to its field; a market order fills and opens a position
    page.get_by_test_id("nav-trading").click()
    expect(page.get_by_test_id("account")).to_be_visible()
    page.get_by_test_id("order-quantity").fill("-1")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("error-quantity")).not_to_be_empty()
    page.get_by_test_id("order-quantity").fill("0.01")
    page.get_by_test_id("place-order").click()
    expect(page.get_by_test_id("error-quantity")).to_be_empty()
    expect(page.get_by_test_id("order-result")).to_contain_text("order")
    page.screenshot(path=artifacts / "3-order-placed.png", full_page=True)
    # a paper market order fills on the next market trade; a loaded box delays order-router's consumer
    expect(page.get_by_test_id("order-result")).to_contain_text("filled", timeout=3 * WAIT_MS)
    # one fill or more: the synthetic book may take a market order in parts
    expect(page.get_by_test_id("fills").locator("tbody tr").first).to_be_visible()
    expect(page.get_by_test_id("positions").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("positions")).to_contain_text("BTC/USDT")
    page.screenshot(path=artifacts / "3-order-filled-position.png", full_page=True)

    # keys: a key left empty is named next to its field (the gateway's 422)
    page.get_by_test_id("nav-setup").click()
    page.get_by_test_id("conn-venue").fill("binance")
    page.get_by_test_id("conn-secret").fill("not-shown-again")
    page.get_by_test_id("conn-submit").click()
    expect(page.get_by_test_id("conn-error-api_key")).not_to_be_empty()
    expect(page.get_by_test_id("conn-error-venue")).to_be_empty()
    add_test_and_delete_a_connection(page, venue, artifacts)

    # a bot from the SMA-cross template, started
    page.get_by_test_id("nav-bots").click()
    expect(page.get_by_test_id("account")).to_be_visible()
    page.get_by_test_id("create-bot").click()
    page.get_by_test_id("bot-start").click()
    expect(page.get_by_test_id("bot-status")).to_have_text("running")
    page.get_by_test_id("bot-name-link").click()  # its chart: candles, its trades as markers
    expect(page.get_by_test_id("bot-chart")).to_have_attribute("data-candles", NONZERO)
    expect(page.get_by_test_id("bot-chart")).to_have_attribute("data-markers", re.compile(r"^[0-9]+$"))
    expect(page.get_by_test_id("bot-symbols")).to_have_text("BTC/USDT 1m")
    page.screenshot(path=artifacts / "4-bot-running.png", full_page=True)
    # its symbols changed: an unlisted one is named; a running bot's new list waits for its next start
    expect(page.get_by_test_id("bot-edit-symbols")).to_have_value("BTC/USDT")
    page.get_by_test_id("bot-edit-symbols").fill("BTC/USDT, DOGE/USDT")
    page.get_by_test_id("bot-save-symbols").click()
    expect(page.get_by_test_id("bot-edit-message")).to_contain_text("DOGE/USDT is not listed")
    page.get_by_test_id("bot-edit-symbols").fill("BTC/USDT, ETH/USDT")
    page.get_by_test_id("bot-save-symbols").click()
    expect(page.get_by_test_id("bot-pending-symbols")).to_contain_text("next start: BTC/USDT, ETH/USDT")
    expect(page.get_by_test_id("bot-symbols")).to_contain_text("BTC/USDT 1m")

    # a backtest over the dataset: live progress, then its equity chart and metrics
    page.get_by_test_id("nav-backtests").click()
    page.get_by_test_id("bt-dataset").select_option(dataset_id)
    page.get_by_test_id("run-backtest").click()
    # the shared worker pool is slow on a loaded box: the run's own deadline is longer
    expect(page.get_by_test_id("bt-message")).to_contain_text("completed", timeout=3 * WAIT_MS)
    expect(page.get_by_test_id("equity-chart")).to_have_attribute("data-points", NONZERO)
    expect(page.get_by_test_id("metrics")).to_be_visible()
    # its trades on the dataset's candles: an entry and an exit marker per trade
    expect(page.get_by_test_id("bt-trades-chart")).to_have_attribute("data-candles", "400")
    expect(page.get_by_test_id("bt-trades-chart")).to_have_attribute("data-markers", NONZERO)
    page.screenshot(path=artifacts / "5-backtest-equity.png", full_page=True)

    # a fast × slow grid search: its heat map, one cell per pair
    page.get_by_test_id("bt-search").check()
    page.get_by_test_id("bt-fast").fill("3,5,8")
    page.get_by_test_id("bt-slow").fill("15,25")
    page.get_by_test_id("run-backtest").click()
    expect(page.get_by_test_id("bt-message")).to_contain_text("search", timeout=3 * WAIT_MS)
    expect(page.get_by_test_id("bt-message")).to_contain_text("completed")
    expect(page.get_by_test_id("heatmap")).to_have_attribute("data-cells", "6")
    page.screenshot(path=artifacts / "5-backtest-heatmap.png", full_page=True)

    # an account's risk limits: the API's 422 next to its field, then saved
    page.get_by_test_id("nav-risk").click()
    expect(page.get_by_test_id("limit-status")).to_contain_text("limits loaded")  # the account's own
    page.get_by_test_id("limit-max_open_orders").fill("-1")
    page.get_by_test_id("limit-submit").click()
    expect(page.get_by_test_id("limit-error-max_open_orders")).not_to_be_empty()
    page.get_by_test_id("limit-max_open_orders").fill("50")
    page.get_by_test_id("limit-submit").click()
    expect(page.get_by_test_id("limit-status")).to_have_text("limits saved")
    expect(page.get_by_test_id("limit-error-max_open_orders")).to_be_empty()
    expect(page.get_by_test_id("limit-max_open_orders")).to_have_value("50")

    # data: a CSV uploaded from a file becomes a dataset
    page.get_by_test_id("nav-setup").click()
    page.get_by_test_id("ds-name").fill("wave two")
    page.get_by_test_id("ds-file").set_input_files(
        files=[{"name": "wave.csv", "mimeType": "text/csv", "buffer": bars_csv(120).encode()}]
    )
    page.get_by_test_id("ds-submit").click()
    expect(page.get_by_test_id("ds-status")).to_contain_text("120 bars")
    expect(page.get_by_test_id("datasets")).to_contain_text("wave two")
    page.screenshot(path=artifacts / "6-data.png", full_page=True)

    # the emergency stop, confirmed
    page.get_by_test_id("nav-risk").click()
    page.get_by_test_id("emergency-stop").click()
    page.get_by_test_id("confirm-emergency-stop").click()
    expect(page.get_by_test_id("halt-state")).to_contain_text("HALTED")
    page.screenshot(path=artifacts / "7-emergency-stop.png")

    # a phone's width: the market page still lays out
    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_test_id("nav-market").click()
    expect(page.get_by_test_id("chart-status")).to_contain_text("candles of BTC/USDT")
    page.screenshot(path=artifacts / "8-phone-market.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    for name in ("bots", "backtests", "risk", "setup"):  # the new forms and charts fit a phone too
        page.get_by_test_id(f"nav-{name}").click()
        expect(page.locator(f"main[data-page={name}] section").first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 400, name
    assert errors == [], errors


def add_test_and_delete_a_connection(page: Page, venue: Any, artifacts: Path) -> None:
    """On the setup page: the stand-in's key (which may withdraw) refused, then confirmed and added;
    only its last four characters shown; tested live; its venue balances; deleted."""
    httpx.post(f"{venue.base_url}/_control/set_permissions", json={"withdraw": True}).raise_for_status()
    page.get_by_test_id("conn-sandbox").uncheck()  # the stand-in serves binance's live endpoints
    page.get_by_test_id("conn-api_key").fill(venue.api_key)
    page.get_by_test_id("conn-secret").fill(venue.secret)
    page.get_by_test_id("conn-submit").click()
    expect(page.get_by_test_id("conn-error-allow_withdrawal_permission")).to_contain_text("withdraw")
    expect(page.get_by_test_id("conn-error-api_key")).to_be_empty()
    expect(page.get_by_test_id("connections")).to_have_text("no exchange connections")

    page.get_by_test_id("conn-allow_withdrawal_permission").check()
    page.get_by_test_id("conn-submit").click()
    last4 = venue.api_key[-4:]
    expect(page.get_by_test_id("conn-status")).to_contain_text(f"added (key ****{last4})")
    expect(page.get_by_test_id("conn-error-allow_withdrawal_permission")).to_be_empty()
    expect(page.get_by_test_id("connections").locator("tbody tr")).to_have_count(1)
    expect(page.get_by_test_id("connections")).to_contain_text(f"****{last4}")
    assert venue.api_key not in page.content() and venue.secret not in page.content()
    assert page.get_by_test_id("conn-api_key").input_value() == ""

    page.get_by_test_id("conn-test").click()
    expect(page.get_by_test_id("conn-test-result")).to_have_text(re.compile(r": ok in [0-9,]+ ms$"))
    page.get_by_test_id("conn-balances-show").click()
    rows = page.get_by_test_id("conn-balance-rows")
    expect(rows.locator("tr", has_text="USDT")).to_contain_text("10,000")  # the stand-in's balances
    expect(rows.locator("tr", has_text="BTC")).to_be_visible()
    page.screenshot(path=artifacts / "3-connection-tested.png", full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())  # the "delete the connection?" confirm
    page.get_by_test_id("conn-delete").click()
    expect(page.get_by_test_id("conn-test-result")).to_contain_text("deleted")
    expect(page.get_by_test_id("connections")).to_have_text("no exchange connections")
    expect(page.get_by_test_id("conn-balances")).to_be_empty()
