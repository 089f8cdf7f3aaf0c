"""Fail when a Python source file grows past the line cap (small files with one clear job)."""

from __future__ import annotations

import subprocess
from pathlib import Path

MAX_LINES = 400
ROOTS = ("libs", "services", "tools", "tests", "bench")


def tracked_python_files(root: Path) -> list[Path]:
    """Python files git tracks or would track (untracked, not ignored) under the source roots."""
    result = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *ROOTS],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return [root / line for line in result.stdout.splitlines() if line.endswith(".py")]


def oversized(files: list[Path], cap: int = MAX_LINES) -> list[tuple[Path, int]]:
    found = []
    for path in files:
        if path.is_file():
            lines = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
            if lines > cap:
                found.append((path, lines))
    return found


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    files = tracked_python_files(root)
    too_big = oversized(files)
    for path, lines in too_big:
        print(f"{path.relative_to(root)}: {lines} lines (cap {MAX_LINES}): split it by responsibility")
    if too_big:
        return 1
    print(f"file size: {len(files)} Python files, none over {MAX_LINES} lines")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
