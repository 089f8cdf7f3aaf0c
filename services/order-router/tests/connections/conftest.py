"""order-router in-process with its venue endpoints pointed at a stand-in Binance spot process."""

import importlib.util
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
from nats.aio.client import Client
from or_harness import Caller, Neighbours

from tradeloom.order_router import app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.rpc import ServiceClient

sys.path.insert(0, str(Path(__file__).parent))

from venue_harness import venue_settings

_spec = importlib.util.spec_from_file_location(
    "standin_launcher", Path(__file__).parent.parent / "standin_venue" / "launcher.py"
)
assert _spec is not None and _spec.loader is not None
launcher: Any = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(launcher)

standin_venue = launcher.standin_venue


@pytest_asyncio.fixture
async def trader(
    or_settings: OrderRouterSettings, neighbours: Neighbours, nc: Client, standin_venue: Any
) -> AsyncIterator[Caller]:
    """order-router running in-process against the stand-in venue; the caller is ``alice``."""
    runtime = app.build(venue_settings(or_settings, standin_venue))
    await runtime.start()
    try:
        yield Caller(ServiceClient(nc, neighbours.subjects), "alice")
    finally:
        await runtime.stop()
