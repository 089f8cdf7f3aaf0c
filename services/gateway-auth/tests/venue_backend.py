"""order-router's stand-in Binance spot venue process (services/order-router/tests/standin_venue),
for the gateway's tests of ``/v1/connections``: order-router's ``binance`` endpoints point at it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import ccxt

LAUNCHER = Path(__file__).resolve().parents[2] / "order-router" / "tests" / "standin_venue" / "launcher.py"
SPOT_ONLY = {"fetchMarkets": {"types": ["spot"]}}


def _launcher() -> Any:
    spec = importlib.util.spec_from_file_location("standin_launcher", LAUNCHER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launcher = _launcher()
StandinVenue = launcher.StandinVenue
API_KEY, SECRET = launcher.API_KEY, launcher.SECRET
standin_venue = launcher.standin_venue  # the fixture: one stand-in process per test


def venue_overrides(venue: Any) -> dict[str, Any]:
    """order-router settings sending ``binance`` calls to the stand-in ``venue``."""
    urls = venue.ccxt_api_urls(ccxt.binance().urls["api"])
    return {"venue_api_urls": {"binance": urls}, "venue_options": {"binance": SPOT_ONLY}}
