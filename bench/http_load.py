"""HTTP load generators for the benches: wrk (C, Debian package) when installed, else aiohttp.

wrk is preferred because a Python load generator on the same 2 cores takes a core of its own and
so understates the server; the fallback keeps ``make bench`` working where wrk is missing.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.harness import P99_MIN_SAMPLES

UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


@dataclass
class LoadResult:
    rate: float  # requests per second
    p50_s: float
    p99_s: float
    requests: int
    bad: int  # non-2xx responses and socket errors
    tool: str
    statuses: dict[int, int] = field(default_factory=dict)

    def line(self) -> str:
        """req/s, p50 and p99 — the p99 only over at least 10,000 requests (bench.harness)."""
        p99 = f"p99 {self.p99_s * 1000:6.2f} ms" if self.requests >= P99_MIN_SAMPLES else "p99 n/a (<10k)"
        return (
            f"{self.rate:8.0f} req/s  p50 {self.p50_s * 1000:6.2f} ms  {p99}  "
            f"{self.requests} requests, {self.bad} not 2xx ({self.tool})"
        )


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value.strip()).groups()  # type: ignore[union-attr]
    return float(number) * UNITS_S[unit]


def parse_wrk(output: str) -> LoadResult:
    """Requests/sec, the 50 % and 99 % latency lines (``--latency``), non-2xx and socket errors."""
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _seconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _seconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    bad = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket:
        bad += sum(int(n) for n in socket.groups())
    return LoadResult(rate, p50, p99, requests, bad, "wrk")


def wrk_load(url: str, seconds: float, connections: int, headers: dict[str, str]) -> LoadResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30)
    return parse_wrk(done.stdout)


async def aiohttp_load(url: str, seconds: float, connections: int, headers: dict[str, str]) -> LoadResult:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
        stop_at = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < stop_at:
                started = time.perf_counter()
                async with session.get(url) as response:
                    await response.read()
                    statuses[response.status] = statuses.get(response.status, 0) + 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    bad = sum(n for status, n in statuses.items() if not 200 <= status < 300)
    return LoadResult(
        len(latencies) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99), len(latencies),
        bad, "aiohttp", statuses,
    )  # fmt: skip


def load(url: str, seconds: float, connections: int, headers: dict[str, Any] | None = None) -> LoadResult:
    """GET ``url`` from ``connections`` keep-alive connections for ``seconds``."""
    if shutil.which("wrk"):
        return wrk_load(url, seconds, connections, headers or {})
    return asyncio.run(aiohttp_load(url, seconds, connections, headers or {}))
