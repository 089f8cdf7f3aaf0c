"""Where a server process stalls: event-loop lag and garbage-collector pauses, printed periodically.

Started inside a bench's server process (``BENCH_PROBE=1``): a task sleeps ``TICK_S`` in a loop and
records how late it wakes (the loop's lag: any callback that held the loop shows up here), and
``gc.callbacks`` time every collection by generation. Every ``REPORT_S`` one line goes to stderr:
lag p50/p99/max, the count of wake-ups later than ``STALL_S``, and collections per generation with
their total and longest pause.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from typing import Any

TICK_S = 0.005
STALL_S = 0.020
REPORT_S = 5.0


class LoopProbe:
    def __init__(self) -> None:
        self.lags: list[float] = []
        self.gc_started = 0.0
        self.gc_pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self.gc_started = time.perf_counter()
        else:
            self.gc_pauses[int(info["generation"])].append(time.perf_counter() - self.gc_started)

    def report(self) -> str:
        lags = sorted(self.lags) or [0.0]
        stalls = sum(1 for lag in lags if lag > STALL_S)
        gcs = "; ".join(
            f"gen{g} {len(p)}x total {sum(p) * 1000:.1f} ms max {max(p, default=0) * 1000:.1f} ms"
            for g, p in self.gc_pauses.items()
        )
        line = (
            f"probe: loop lag p50 {lags[len(lags) // 2] * 1000:.2f} ms p99 "
            f"{lags[int(len(lags) * 0.99)] * 1000:.2f} ms max {lags[-1] * 1000:.1f} ms, "
            f"{stalls} wake-ups > {STALL_S * 1000:.0f} ms of {len(self.lags)}; gc {gcs}"
        )
        self.lags = []
        self.gc_pauses = {0: [], 1: [], 2: []}
        return line

    async def run(self) -> None:
        gc.callbacks.append(self._on_gc)
        last_report = time.perf_counter()
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK_S)
            now = time.perf_counter()
            self.lags.append(max(0.0, now - before - TICK_S))
            if now - last_report >= REPORT_S:
                print(self.report(), file=sys.stderr, flush=True)
                last_report = now
