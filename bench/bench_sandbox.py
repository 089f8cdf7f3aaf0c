"""Sandbox overhead: one ``print(1)`` execution through the full sandbox against plain ``python -c``.

The full stack is what the service runs: bubblewrap (mount/pid/net/ipc/uts namespaces, read-only
binds, size-capped tmpfs), per-run cgroups (pids, memory, cpuacct), rlimits, seccomp, setpriv to
an unprivileged uid, the bootstrap's compile/exec/report, pidfd wait and cleanup. The peer is the
same interpreter started with ``-I -c 'print(1)'`` by ``subprocess.run``. The two alternate (which
goes first swaps every run), 5 warm-up runs each are left out; prints the median and max of 100 runs
each (too few for a p99: bench.harness), the median overhead, and executions/s with several at
once. Needs root (as the service).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bench.harness import header, percentile_line
from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.runner import RunRequest, SandboxConfig, SandboxRunner

RUNS = 100
CONCURRENT = 4
PER_WORKER = 25


def _alternate(
    first: Callable[[], None], second: Callable[[], None], runs: int
) -> tuple[list[float], list[float]]:
    """Seconds of each over ``runs`` alternating runs, the order swapping every run."""
    samples: tuple[list[float], list[float]] = ([], [])
    for i in range(runs):
        for side in (i % 2, 1 - i % 2):
            started = time.perf_counter()
            (first, second)[side]()
            samples[side].append(time.perf_counter() - started)
    return samples


def main() -> None:
    runner = SandboxRunner(SandboxConfig(uid_base=230_000, slots=CONCURRENT), discover_layout())
    isolation = runner.prepare()
    if not isolation.ready:
        print(f"sandbox not available: {isolation.reason}")
        return
    request = RunRequest(code="print(1)", time_limit_s=10, memory_mb=256)

    def sandboxed() -> None:
        answer = runner.run(request)
        assert answer.stdout == "1\n", answer

    def plain() -> None:
        subprocess.run([sys.executable, "-I", "-c", "print(1)"], check=True, capture_output=True)

    _alternate(sandboxed, plain, 5)  # warm-up: page cache, cgroups
    ours, peer = _alternate(sandboxed, plain, RUNS)
    header("sandbox execution of print(1)", f"{RUNS} runs each, alternating; {sys.executable}")
    print(f"   sandbox:         {percentile_line(ours)}")
    print(f"   plain python -c: {percentile_line(peer)}")
    overhead = (statistics.median(ours) - statistics.median(peer)) * 1e3
    print(f"   overhead: median {overhead:+.1f} ms (goal <= 25 ms), ratio of medians "
          f"{statistics.median(ours) / statistics.median(peer):.2f}x")  # fmt: skip
    for workers in (1, CONCURRENT):
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda _: [sandboxed() for _ in range(PER_WORKER)], range(workers)))
        elapsed = time.perf_counter() - started
        print(f"throughput with {workers} at once: {workers * PER_WORKER / elapsed:6.1f} executions/s")


if __name__ == "__main__":
    main()
