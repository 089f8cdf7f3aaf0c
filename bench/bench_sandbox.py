"""Sandbox overhead per execution (issue #16: median <= 25 ms over a bare interpreter start).

1. **Phases**, interleaved rotating rounds (``bench.harness``): bare ``python -I -S -c pass``,
   ``python -I -c pass`` (the venv's interpreter, site and its .pth files), bubblewrap alone (the
   namespaces and mounts) running ``/bin/true``, plus seccomp and setpriv, plus the sandboxed
   interpreter, then a whole execution of ``print(1)`` through the runner started cold (pool off:
   per-run cgroups, rlimits, bwrap, setpriv, interpreter, bootstrap, report, cleanup) and through a
   ready single-use worker (``TL_SANDBOX_EXECUTOR_POOL_SIZE``). CPU time per execution beside it.
   Inside the runner: cgroup creation, the spawn, the job (hand-off to exit) and the cleanup.
2. **Overhead**: the pooled execution against ``python -I -c 'print(1)'`` by ``subprocess.run``,
   alternating (the order swapping every run), ``BENCH_SANDBOX_RUNS`` (300) each; a p99 only from
   >= 10,000 samples (``BENCH_SANDBOX_RUNS=10000`` takes ~10 min), else "max of N"; which path each
   run took (ready worker or cold start) is counted.
3. **Throughput** with 1 and ``slots`` callers back to back (runs then outpace the refill).
Needs root (as the service). One line: ``.venv/bin/python -m bench bench_sandbox``.
"""

from __future__ import annotations

import collections
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from bench.harness import Contender, header, interleaved, percentile_line, report
from tradeloom.sandbox_executor.sandbox import runner as runner_module
from tradeloom.sandbox_executor.sandbox.cgroups import RunGroups
from tradeloom.sandbox_executor.sandbox.command import bwrap_argv
from tradeloom.sandbox_executor.sandbox.layout import discover_layout
from tradeloom.sandbox_executor.sandbox.runner import RunRequest, SandboxConfig, SandboxRunner

RUNS = int(os.environ.get("BENCH_SANDBOX_RUNS", "300"))
PHASE_ROUNDS = int(os.environ.get("BENCH_SANDBOX_PHASE_ROUNDS", "30"))
SLOTS = 2
PER_WORKER = 25
REQUEST = RunRequest(code="print(1)", time_limit_s=10, memory_mb=256)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Paths:
    """Counts cold starts (``_start_worker`` with a request) against all runs of a runner."""

    def __init__(self, runner: SandboxRunner) -> None:
        self.cold = 0
        original = runner._start_worker

        def counted(uid: int, request: RunRequest | None = None) -> Any:
            if request is not None:
                self.cold += 1
            return original(uid, request)

        runner._start_worker = counted  # type: ignore[method-assign]


def _runner(uid_base: int, pool_size: int) -> SandboxRunner:
    runner = SandboxRunner(
        SandboxConfig(uid_base=uid_base, slots=SLOTS, pool_size=pool_size), discover_layout()
    )
    isolation = runner.prepare()
    if not isolation.ready:
        raise SystemExit(f"sandbox not available: {isolation.reason}")
    return runner


def _execute(runner: SandboxRunner, cpu: list[float]) -> Callable[[], None]:
    def go() -> None:
        answer = runner.run(REQUEST)
        assert answer.stdout == "1\n", answer
        cpu.append(answer.cpu_s)

    return go


def _command(argv: list[str], cpu: list[float], bpf: bytes | None = None) -> Callable[[], None]:
    """Run ``argv`` to completion; with ``bpf``, "{seccomp}" in argv becomes a pipe holding it."""

    def go() -> None:
        before = _children_cpu()
        if bpf is None:
            subprocess.run(argv, check=True, capture_output=True)
        else:
            read, write = os.pipe()
            os.write(write, bpf)
            os.close(write)
            real = [str(read) if a == "{seccomp}" else a for a in argv]
            subprocess.run(real, check=True, capture_output=True, pass_fds=(read,))
            os.close(read)
        cpu.append(_children_cpu() - before)

    return go


@contextmanager
def _timed_phases() -> Iterator[dict[str, list[float]]]:
    """Wall time of the runner's inner steps while the block runs (wrapping, then restoring)."""
    found: dict[str, list[float]] = collections.defaultdict(list)
    targets = [
        (RunGroups, "create", "cgroups created"),
        (runner_module, "start", "spawn (fork, rlimits, cgroup join, exec bwrap)"),
        (runner_module, "supervise", "hand-off to exit (cold: the sandbox's start too)"),
        (RunGroups, "kill_all", "kill_all (per call)"),
        (RunGroups, "remove", "cgroups removed"),
        (runner_module, "reap_orphans", "orphan reaping"),
    ]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]

    def wrap(original: Callable[..., Any], label: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                found[label].append(time.perf_counter() - started)

        return timed

    for (owner, name, label), (_, _, original) in zip(targets, saved, strict=True):
        setattr(owner, name, wrap(original, label))
    try:
        yield found
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def phases(cold: SandboxRunner, pooled: SandboxRunner) -> None:
    py = sys.executable
    full = bwrap_argv(cold.config, cold.layout, cold.config.uid_base, 1, 0)
    at_setpriv, at_python = full.index(cold.config.setpriv), full.index(cold.layout.python)
    seccomp = full.index("--seccomp")
    bwrap_only = full[:seccomp] + full[seccomp + 2 : at_setpriv]
    with_seccomp = [*full[:seccomp], "--seccomp", "{seccomp}", *full[seccomp + 2 : at_setpriv]]
    setpriv = full[at_setpriv:at_python]
    bpf = cold._bpf
    cpu: dict[str, list[float]] = collections.defaultdict(list)
    contenders = [
        Contender(
            "python -I -S", _command([py, "-I", "-S", "-c", "pass"], cpu["python -I -S"]), "subprocess.run"
        ),
        Contender("python -I", _command([py, "-I", "-c", "pass"], cpu["python -I"]), "subprocess.run, site"),
        Contender(
            "bwrap true", _command([*bwrap_only, "/bin/true"], cpu["bwrap true"]), "namespaces, mounts"
        ),
        Contender(
            "+seccomp+setpriv true",
            _command([*with_seccomp, *setpriv, "/bin/true"], cpu["+seccomp+setpriv true"], bpf),
            "+ seccomp program, setpriv to the run uid",
        ),
        Contender(
            "+python -I -B -c pass",
            _command([*with_seccomp, *setpriv, py, "-I", "-B", "-u", "-c", "pass"], cpu["+python"], bpf),
            "+ the sandboxed interpreter (no cgroups, no bootstrap)",
        ),
        Contender("runner cold", _execute(cold, cpu["runner cold"]), "pool off: all of the above + boot.py"),
        Contender(
            "runner pooled", _execute(pooled, cpu["runner pooled"]), "ready single-use worker (pool 2)"
        ),
    ]
    header(
        "sandbox phases: print(1) / pass",
        f"{PHASE_ROUNDS} rotating rounds; {py}; CPU: children's rusage, the runner's cpuacct (whole run)",
    )
    timings = interleaved(contenders, rounds=PHASE_ROUNDS, warmup=2)
    report(timings, base="python -I")
    for name, values in cpu.items():
        if name.startswith(("bwrap", "+")):
            continue  # rusage misses the processes inside bwrap's pid namespace
        print(f"   CPU {name:<24} median {statistics.median(values) * 1e3:6.1f} ms ({len(values)} runs)")
    cold_paths = Paths(cold)
    with _timed_phases() as inner:
        for _ in range(PHASE_ROUNDS):
            _execute(cold, [])()
    print(f"   inside a cold run ({PHASE_ROUNDS} runs, {cold_paths.cold} cold starts):")
    for label, values in inner.items():
        print(f"     {label:<46} median {statistics.median(values) * 1e3:6.2f} ms "
              f"(min {min(values) * 1e3:.2f}, max {max(values) * 1e3:.2f})")  # fmt: skip


def overhead(pooled: SandboxRunner) -> None:
    paths = Paths(pooled)
    cpu: list[float] = []
    ours_run, peer_run = _execute(pooled, cpu), _command([sys.executable, "-I", "-c", "print(1)"], [])
    for _ in range(5):  # warm-up: page cache, cgroups
        ours_run()
        peer_run()
    paths.cold = 0
    ours: list[float] = []
    peer: list[float] = []
    for i in range(RUNS):
        for side in (i % 2, 1 - i % 2):
            started = time.perf_counter()
            (ours_run, peer_run)[side]()
            (ours, peer)[side].append(time.perf_counter() - started)
    header("sandbox overhead: print(1)", f"{RUNS} runs each, alternating; {sys.executable}")
    print(f"   sandbox (pool):  {percentile_line(ours)}")
    print(f"      path: {RUNS - paths.cold} runs took a ready worker, {paths.cold} started cold")
    print(f"   plain python -c: {percentile_line(peer)}")
    diffs = sorted(a - b for a, b in zip(ours, peer, strict=True))
    print(f"   overhead: median {(statistics.median(ours) - statistics.median(peer)) * 1e3:+.1f} ms "
          f"(goal <= 25 ms); per pair {percentile_line(diffs)}; ratio of medians "
          f"{statistics.median(ours) / statistics.median(peer):.2f}x; CPU per execution (cpuacct, "
          f"worker start included) median {statistics.median(cpu) * 1e3:.1f} ms")  # fmt: skip


def throughput(runner: SandboxRunner, label: str) -> None:
    paths = Paths(runner)
    for workers in (1, SLOTS):
        paths.cold = 0
        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda _: [_execute(runner, [])() for _ in range(PER_WORKER)], range(workers)))
        elapsed = time.perf_counter() - started
        rate = workers * PER_WORKER / elapsed
        print(f"   {label}, {workers} caller(s) back to back: {rate:6.1f} executions/s "
              f"({paths.cold} of {workers * PER_WORKER} started cold)")  # fmt: skip


def main() -> None:
    cold, pooled = _runner(230_000, 0), _runner(230_100, SLOTS)
    try:
        phases(cold, pooled)
        overhead(pooled)
        header("sandbox throughput: print(1)", f"{PER_WORKER} runs per caller, {SLOTS} slots")
        throughput(cold, "pool off")
        throughput(pooled, f"pool {SLOTS}")
    finally:
        cold.close()
        pooled.close()


if __name__ == "__main__":
    main()
