"""Zombie and straggler handling: the executor is a child subreaper and reaps what lands on it.

When the outer bwrap is killed before its pid-1 child, that child is re-parented to the nearest
subreaper (this process) instead of init; unreaped it would stay a zombie. Only such orphans are
reaped here (``bwrap`` processes this process did not spawn itself), so the exit statuses of
other children (test servers, ``Popen`` objects still being waited on) are never stolen.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from pathlib import Path

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """prctl(PR_SET_CHILD_SUBREAPER, 1) via ctypes; True on success."""
    libc = ctypes.CDLL(None, use_errno=True)
    return bool(libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0)


def _stat(pid: str) -> tuple[str, str, int] | None:
    """(comm, state, ppid) of a process, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    state, ppid = raw[raw.rindex(")") + 2 :].split()[:2]
    return comm, state, int(ppid)


def _children() -> list[str]:
    """This process's children (every thread's ``children`` list; a scan of /proc without it)."""
    if not os.path.exists(f"/proc/self/task/{os.getpid()}/children"):  # no CONFIG_PROC_CHILDREN
        return [entry for entry in os.listdir("/proc") if entry.isdigit()]
    found: list[str] = []
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):  # a thread that just ended
            found += Path(f"/proc/self/task/{task}/children").read_text().split()
    return found


def reap_orphans(own_spawned: set[int]) -> int:
    """Reap zombie ``bwrap`` children this process adopted; returns how many."""
    me, reaped = os.getpid(), 0
    for entry in _children():
        if int(entry) in own_spawned:
            continue
        stat = _stat(entry)
        if stat and stat[2] == me and stat[0] == "bwrap":
            with contextlib.suppress(ChildProcessError):
                os.waitpid(int(entry), os.WNOHANG)
                reaped += 1
    return reaped


def processes_of_uid(uid: int) -> list[int]:
    """Pids whose real uid is ``uid`` (a scan of /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for line in Path(f"/proc/{entry}/status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        found.append(int(entry))
                    break
        except OSError:
            continue
    return found


def kill_uid(uid: int) -> None:
    """SIGKILL every process of a sandbox uid (the fallback when there is no pids cgroup)."""
    for pid in processes_of_uid(uid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
