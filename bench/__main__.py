"""``make bench``: run every ``bench/bench_*.py`` module's ``main()``, in order, each in a fresh process.

A fresh interpreter per module keeps one bench from skewing the next: a process that has loaded
vectorbt and a year of candles forks far more slowly (the sandbox bench measured +75 ms instead of
+32 ms of overhead after the others had run in the same process), and leftover threads, child
processes and frozen heaps are not carried over. ``python -m bench bench_x bench_y`` runs a few.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if m.name.startswith("bench_")
    )
    wanted = set(sys.argv[1:])
    unknown = wanted - set(names)
    if unknown:
        print(f"no such bench: {', '.join(sorted(unknown))} (have: {', '.join(names)})", file=sys.stderr)
        return 2
    failed = []
    for name in names:
        if wanted and name not in wanted:
            continue
        print(f"== {name}", flush=True)
        code = f"import importlib; importlib.import_module('bench.{name}').main()"
        if subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False).returncode != 0:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
