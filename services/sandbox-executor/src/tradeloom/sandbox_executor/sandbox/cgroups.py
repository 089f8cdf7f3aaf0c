"""cgroup v1 ``pids`` and ``memory`` groups, one per run, nested under the service's own group.

Nesting under the group this process already lives in (read from ``/proc/self/cgroup``) keeps
every run inside whatever limit the host or Kubernetes put on the service. A controller that is
not mounted or not writable is reported as missing (the runner then states the degradation in
its health and falls back to rlimits); it never makes a run unsandboxed.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

PARENT_NAME = "tradeloom-sandbox"


def _own_group(controller: str, proc_cgroup: str) -> str | None:
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    return None


def _mount_point(controller: str, mountinfo: str) -> tuple[Path, str] | None:
    """(mount point, mount root) of the v1 hierarchy carrying ``controller``."""
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, extra = left.split(), right.split()
        if len(extra) >= 3 and extra[0] == "cgroup" and controller in extra[2].split(","):
            return Path(fields[4]), fields[3]
    return None


def find_controller_dir(controller: str, name: str = PARENT_NAME) -> tuple[Path | None, str]:
    """The directory (created if missing) runs of one runner nest under, or None with the reason."""
    try:
        mountinfo = Path("/proc/self/mountinfo").read_text()
        proc_cgroup = Path("/proc/self/cgroup").read_text()
    except OSError as error:
        return None, f"cannot read /proc: {error}"
    mount = _mount_point(controller, mountinfo)
    own = _own_group(controller, proc_cgroup)
    if mount is None or own is None:
        return None, f"cgroup v1 controller {controller!r} is not mounted"
    point, root = mount
    relative = own[len(root) :] if own.startswith(root) else own
    base = point / relative.lstrip("/") / name
    try:
        base.mkdir(exist_ok=True)
    except OSError as error:
        return None, f"cannot create {base}: {error.strerror}"
    return base, "ok"


@dataclass
class RunGroups:
    """The per-run groups: created before spawn, joined by the child, removed after."""

    pids_dir: Path | None
    memory_dir: Path | None
    cpuacct_dir: Path | None = None

    @classmethod
    def create(
        cls,
        *,
        pids_base: Path | None,
        memory_base: Path | None,
        name: str,
        max_pids: int,
        memory_bytes: int,
        cpuacct_base: Path | None = None,
    ) -> RunGroups:
        groups = cls(None, None)
        try:
            if cpuacct_base is not None:
                groups.cpuacct_dir = cpuacct_base / name
                groups.cpuacct_dir.mkdir()
            if pids_base is not None:
                groups.pids_dir = pids_base / name
                groups.pids_dir.mkdir()
                (groups.pids_dir / "pids.max").write_text(str(max_pids))
            if memory_base is not None:
                groups.memory_dir = memory_base / name
                groups.memory_dir.mkdir()
                groups.set_memory_limit(memory_bytes)
        except OSError:
            groups.remove()
            raise
        return groups

    def set_memory_limit(self, memory_bytes: int) -> None:
        """Memory (and memory+swap, where accounted) limit; memsw may never be below memory, so
        a raise writes memsw first and a cut writes memory first."""
        if self.memory_dir is None:
            return
        memory = self.memory_dir / "memory.limit_in_bytes"
        swap = self.memory_dir / "memory.memsw.limit_in_bytes"
        raising = memory_bytes > (_read_int(self.memory_dir, "memory.limit_in_bytes") or 0)
        for path in (swap, memory) if raising else (memory, swap):
            if path is memory:
                memory.write_text(str(memory_bytes))
            elif swap.exists():
                with contextlib.suppress(OSError):
                    swap.write_text(str(memory_bytes))

    def open_procs_fds(self) -> list[int]:
        """Write-only fds of ``cgroup.procs``; the child writes ``0`` to each to join."""
        return [
            os.open(directory / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
            for directory in (self.pids_dir, self.memory_dir, self.cpuacct_dir)
            if directory is not None
        ]

    def pids(self) -> list[int]:
        directory = self.pids_dir or self.memory_dir
        if directory is None:
            return []
        try:
            return [int(pid) for pid in (directory / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill_all(self, timeout_s: float = 2.0) -> bool:
        """SIGKILL every process in the group until it is empty; True when empty."""
        deadline = time.monotonic() + timeout_s
        while True:
            pids = self.pids()
            if not pids:
                return True
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            if time.monotonic() > deadline:
                return False
            time.sleep(0.002)

    def peak_memory_bytes(self) -> int | None:
        return _read_int(self.memory_dir, "memory.max_usage_in_bytes")

    def oom_killed(self) -> bool:
        """True when the memory limit was hit hard enough to kill (or to fail allocations)."""
        if self.memory_dir is None:
            return False
        try:
            control = (self.memory_dir / "memory.oom_control").read_text()
        except OSError:
            return False
        for line in control.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and int(value or 0) > 0:
                return True
        return False

    def pids_limit_hit(self) -> bool:
        if self.pids_dir is None:
            return False
        try:
            return "max 0" not in (self.pids_dir / "pids.events").read_text()
        except OSError:
            return False

    def cpu_seconds(self) -> float | None:
        """CPU time of every process that ran in the group (cpuacct), or None."""
        usage = _read_int(self.cpuacct_dir, "cpuacct.usage")
        return None if usage is None else usage / 1e9

    def remove(self) -> None:
        for directory in (self.pids_dir, self.memory_dir, self.cpuacct_dir):
            if directory is not None:
                with contextlib.suppress(OSError):
                    directory.rmdir()


def _read_int(directory: Path | None, name: str) -> int | None:
    if directory is None:
        return None
    try:
        return int((directory / name).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
