"""The one way every bench measures and prints, so that no figure flatters its side.

- Contenders take turns within a round and the order rotates every round (round r starts with
  contender r mod k), so load from elsewhere on the box hits every side of a ratio alike.
- The first call of each contender is timed and reported apart as its cold start (compile, caches,
  first page faults); ``warmup`` further calls are run untimed; then ``rounds`` (at least 5) timed rounds.
- Every figure is a median with its min and max; a ratio is the median of the per-round ratios
  (each round's two times were taken seconds apart) with their min and max.
- A p99 is printed only from at least 10,000 samples; below that the line says "max of N".
- "Sustained" means at least 60 s (``require_sustained``).
- Every block starts with the data it ran on and the box's load average; every contender line says
  which code path ran.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

MIN_ROUNDS = 5
P99_MIN_SAMPLES = 10_000
SUSTAINED_MIN_S = 60.0


def loadavg() -> str:
    """The 1/5/15-minute load averages (``/proc/loadavg``), or "n/a" off Linux."""
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def header(title: str, data: str) -> None:
    """Print a block's title, the data it runs on and the current load."""
    print(f"-- {title}", flush=True)
    print(f"   data: {data}", flush=True)
    print(f"   load: {loadavg()} (1/5/15 min; 2 cores)", flush=True)


@dataclass(frozen=True)
class Contender:
    """A named callable and the code path it exercises (printed beside its figures)."""

    name: str
    run: Callable[[], object]
    path: str


@dataclass
class Timing:
    """One contender's cold start and its timed rounds, in seconds."""

    name: str
    path: str
    cold: float
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def show(self, scale: float = 1e3, unit: str = "ms") -> str:
        s = [x * scale for x in self.samples]
        return (
            f"median {statistics.median(s):9.2f} {unit} (min {min(s):.2f}, max {max(s):.2f}, "
            f"{len(s)} rounds; cold {self.cold * scale:.1f} {unit})"
        )


def interleaved(
    contenders: Sequence[Contender], rounds: int = MIN_ROUNDS, warmup: int = 1
) -> dict[str, Timing]:
    """Time every contender over ``rounds`` rotating rounds; see the module docstring."""
    if rounds < MIN_ROUNDS:
        raise ValueError(f"rounds: at least {MIN_ROUNDS}")
    timings: dict[str, Timing] = {}
    for c in contenders:
        started = time.perf_counter()
        c.run()
        timings[c.name] = Timing(c.name, c.path, time.perf_counter() - started)
    for _ in range(warmup):
        for c in contenders:
            c.run()
    k = len(contenders)
    for r in range(rounds):
        for i in range(k):
            c = contenders[(r + i) % k]
            started = time.perf_counter()
            c.run()
            timings[c.name].samples.append(time.perf_counter() - started)
    return timings


@dataclass(frozen=True)
class AsyncContender:
    """``Contender`` for a coroutine function (an async bench runs inside its own event loop).

    ``setup``, when given, runs untimed before every call of ``run`` (e.g. filling a table the
    timed part drains).
    """

    name: str
    run: Callable[[], Awaitable[object]]
    path: str
    setup: Callable[[], Awaitable[object]] | None = None

    async def timed(self) -> float:
        if self.setup is not None:
            await self.setup()
        started = time.perf_counter()
        await self.run()
        return time.perf_counter() - started


async def interleaved_async(
    contenders: Sequence[AsyncContender], rounds: int = MIN_ROUNDS, warmup: int = 1
) -> dict[str, Timing]:
    """``interleaved`` for coroutine functions, awaited one at a time."""
    if rounds < MIN_ROUNDS:
        raise ValueError(f"rounds: at least {MIN_ROUNDS}")
    timings: dict[str, Timing] = {}
    for c in contenders:
        timings[c.name] = Timing(c.name, c.path, await c.timed())
    for _ in range(warmup):
        for c in contenders:
            await c.timed()
    k = len(contenders)
    for r in range(rounds):
        for i in range(k):
            c = contenders[(r + i) % k]
            timings[c.name].samples.append(await c.timed())
    return timings


def ratio(a: Timing, b: Timing) -> str:
    """``a`` over ``b``: the median of the per-round ratios, with their min and max."""
    per_round = [x / y for x, y in zip(a.samples, b.samples, strict=True)]
    return f"{statistics.median(per_round):.2f}x (per-round {min(per_round):.2f}-{max(per_round):.2f}x)"


def report(timings: dict[str, Timing], base: str | None = None, scale: float = 1e3, unit: str = "ms") -> None:
    """One line per contender: its figures, its path, and its ratio to ``base``."""
    width = max(len(name) for name in timings)
    for name, t in timings.items():
        vs = f"  {name}/{base} = {ratio(t, timings[base])}" if base and name != base else ""
        print(f"   {name:<{width}} {t.show(scale, unit)}{vs}", flush=True)
        print(f"   {'':<{width}}   path: {t.path}", flush=True)


def p99(ordered: Sequence[float]) -> float:
    """The 99th percentile of sorted samples (nearest rank); meaningful from ``P99_MIN_SAMPLES``."""
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def percentile_line(samples: Sequence[float], scale: float = 1e3, unit: str = "ms") -> str:
    """p50 and p99 of ``samples`` — or p50 and "max of N" when there are fewer than 10,000."""
    if not samples:
        return "no samples"
    ordered = sorted(samples)
    n = len(ordered)
    p50 = ordered[n // 2] * scale
    if n >= P99_MIN_SAMPLES:
        return f"p50 {p50:.2f} {unit}, p99 {p99(ordered) * scale:.2f} {unit} ({n:,} samples)"
    return f"p50 {p50:.2f} {unit}, max of {n:,} {ordered[-1] * scale:.2f} {unit} (too few for a p99)"


def require_sustained(seconds: float) -> None:
    """Refuse to call a run "sustained" when it lasts under 60 s."""
    if seconds < SUSTAINED_MIN_S:
        raise ValueError(f"sustained: {seconds} s is a burst; at least {SUSTAINED_MIN_S:.0f} s")
