"""Start, kill and restart the stand-in venue process; talk to its control routes.

Loaded by path from the conftest files (tests are collected in importlib mode, not as packages).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest_asyncio

from tradeloom.shared.testing.ports import LOOPBACK, free_port

SERVER = Path(__file__).with_name("venue_server.py")
START_DEADLINE_S = 60.0


class StandinVenue:
    """One stand-in venue process on a free port; its state file outlives restarts."""

    def __init__(self, state_file: Path, api_key: str, secret: str) -> None:
        self.state_file, self.api_key, self.secret = state_file, api_key, secret
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def ccxt_api_urls(self, real_urls: dict[str, Any]) -> dict[str, str]:
        """ccxt's ``urls['api']`` with every host replaced by this process (paths kept), and the
        spot WebSocket API and the futures stream base (ccxt pro's user data streams) as the dotted
        entries ``ws.ws-api.spot`` and ``ws.future``."""
        urls = {
            name: self.base_url + urlsplit(url).path
            for name, url in real_urls.items()
            if isinstance(url, str)
        }
        ws = f"ws://{LOOPBACK}:{self.port}"
        return urls | {"ws.ws-api.spot": f"{ws}/ws-api/v3", "ws.future": f"{ws}/ws"}

    async def start(self) -> None:
        command = [sys.executable, str(SERVER), "--port", str(self.port), "--state", str(self.state_file)]
        command += ["--api-key", self.api_key, "--secret", self.secret]
        self.process = subprocess.Popen(command, cwd=SERVER.parent, env={**os.environ, "PYTHONPATH": ""})
        deadline = time.monotonic() + START_DEADLINE_S
        async with aiohttp.ClientSession() as session:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(f"stand-in venue exited with {self.process.returncode}")
                try:
                    async with session.get(self.base_url + "/api/v3/ping") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("stand-in venue did not answer within the deadline")
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no chance to flush anything that was not already on disk."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)
        self.process = None

    async def restart(self, *, hard: bool = True) -> None:
        """``hard``: SIGKILL and start again; otherwise the venue's own restart control (re-exec),
        waited for until a new process answers."""
        if hard:
            self.kill()
            await self.start()
            return
        old_boot = (await self.control("restart"))["boot_id"]
        deadline = time.monotonic() + START_DEADLINE_S
        while True:
            try:
                if (await self.control("state"))["boot_id"] != old_boot:
                    return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("stand-in venue did not come back after its restart control")
            await asyncio.sleep(0.05)

    async def control(self, action: str, **body: Any) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.post(f"{self.base_url}/_control/{action}", json=body) as response,
        ):
            response.raise_for_status()
            return await response.json()


API_KEY = "standin-api-key-000000000000000000000000000001"
SECRET = "standin-secret-00000000000000000000000000000001"


@pytest_asyncio.fixture
async def standin_venue(tmp_path: Path) -> AsyncIterator[StandinVenue]:
    """One stand-in venue process per test (its own port and state file); killed afterwards."""
    venue = StandinVenue(tmp_path / "venue.json", API_KEY, SECRET)
    await venue.start()
    try:
        yield venue
    finally:
        venue.kill()
