"""Sandbox overhead: one ``print(1)`` execution through the full sandbox against plain ``python -c``.

The full stack is what the service runs: bubblewrap (mount/pid/net/ipc/uts namespaces, read-only
binds, size-capped tmpfs), per-run cgroups (pids, memory, cpuacct), rlimits, seccomp, setpriv to
an unprivileged uid, the bootstrap's compile/exec/report, pidfd wait and cleanup. The peer is the
same interpreter started with ``-I -c 'print(1)'`` by ``subprocess.run``. Prints median and p99 of
100 runs each, the overhead, and executions/s with several at once. Needs root (as the service).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.runner import RunRequest, SandboxConfig, SandboxRunner

RUNS = 100
CONCURRENT = 4
PER_WORKER = 25


def _percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time(action: object, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
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

    _time(sandboxed, 5)  # warm page cache
    ours = _time(sandboxed, RUNS)
    peer = _time(plain, RUNS)
    ours_median, peer_median = statistics.median(ours), statistics.median(peer)
    for label, samples in (("sandbox print(1)", ours), ("plain python -c", peer)):
        median, p99 = statistics.median(samples), _percentile(samples, 0.99)
        print(f"{label:18} median {median:7.1f} ms  p99 {p99:7.1f} ms  ({RUNS} runs)")
    print(
        f"overhead: median {ours_median - peer_median:+.1f} ms, p99 "
        f"{_percentile(ours, 0.99) - _percentile(peer, 0.99):+.1f} ms, "
        f"ratio {ours_median / peer_median:.2f}x "
        f"(goal: median overhead < 50 ms)"
    )
    for workers in (1, CONCURRENT):
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda _: [sandboxed() for _ in range(PER_WORKER)], range(workers)))
        elapsed = time.perf_counter() - started
        print(f"throughput with {workers} at once: {workers * PER_WORKER / elapsed:6.1f} executions/s")


if __name__ == "__main__":
    main()
