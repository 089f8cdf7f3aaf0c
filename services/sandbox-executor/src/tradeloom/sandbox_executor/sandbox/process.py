"""Spawn one sandboxed process (``start``; possibly ahead of its job, see ``pool.py``) and supervise
it once its job is handed over (``supervise``): stdin, capped output, report, pidfd, wall limit.

Synchronous on purpose (called in a worker thread): one ``selectors`` loop over the pipes and a
pidfd, so the exit is seen the moment it happens (no ``Popen.wait(timeout=...)`` polling), and
``wait4`` gives the exit status with the resource usage of the whole reaped tree.
"""

from __future__ import annotations

import contextlib
import os
import resource
import select
import selectors
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

DRAIN_AFTER_EXIT_S = 0.5
READY = b"\x06"  # the bootstrap's first byte on the report fd: loaded, about to read its job
DISCARD_BUDGET_FACTOR = 64  # keep draining (and discarding) this many times the cap, then hang up


@dataclass
class Capture:
    """One output stream with a cap: what was kept and whether anything was dropped."""

    cap: int
    data: bytearray = field(default_factory=bytearray)
    seen: int = 0

    @property
    def truncated(self) -> bool:
        return self.seen > len(self.data)

    def feed(self, chunk: bytes) -> bool:
        """Keep up to the cap; False once the stream is past its discard budget."""
        self.seen += len(chunk)
        room = self.cap - len(self.data)
        if room > 0:
            self.data += chunk[:room]
        return self.seen <= self.cap * DISCARD_BUDGET_FACTOR


@dataclass
class ProcessOutcome:
    """What supervision observed; interpretation happens in ``domain.limits.classify``."""

    stdout: Capture
    stderr: Capture
    report: bytes
    wall_s: float
    killed_by_wall: bool
    exit_code: int | None
    exit_signal: int | None
    cpu_s: float
    max_rss_bytes: int


@dataclass
class Started:
    """A spawned sandbox process, not yet given its job (it blocks reading stdin until then)."""

    process: subprocess.Popen[bytes]
    pidfd: int
    report_fd_read: int

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until the bootstrap signals it is loaded (consuming that byte); False if it
        exited or took longer than ``timeout_s``."""
        if not select.select([self.report_fd_read], [], [], timeout_s)[0]:
            return False
        return os.read(self.report_fd_read, 1) == READY

    def alive(self) -> bool:
        """False once the process has exited (its pidfd is readable)."""
        return not select.select([self.pidfd], [], [], 0)[0]

    def discard(self, kill_tree: Callable[[int], None]) -> None:
        """Kill it (it never ran a job), reap it and close its descriptors."""
        kill_tree(self.process.pid)
        os.wait4(self.process.pid, 0)
        self.process.returncode = -9
        for fd in (self.pidfd, self.report_fd_read):
            os.close(fd)
        for pipe in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):
                if pipe is not None:
                    pipe.close()


def start(
    argv: list[str],
    *,
    report_fd_write: int,
    report_fd_read: int,
    extra_fds: tuple[int, ...],
    preexec: Callable[[], None],
    on_spawn: Callable[[int], None] = lambda pid: None,
    spawn_guard: AbstractContextManager[object] | None = None,
) -> Started:
    """Spawn ``argv``; the caller's descriptors for the child are closed here (on failure too).

    ``spawn_guard`` is held from before the fork until ``on_spawn`` has recorded the pid, so a
    concurrent reaper holding it never sees this child unrecorded (and never steals its status)."""
    with spawn_guard if spawn_guard is not None else contextlib.nullcontext():
        try:
            process = subprocess.Popen(  # noqa: S603 - argv is built by the runner, never from user input
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(report_fd_write, *extra_fds),
                preexec_fn=preexec,  # noqa: PLW1509 - only syscalls on pre-built values (see runner)
                env={"PATH": "/usr/bin:/bin"},  # bwrap itself never sees the service's secrets
                close_fds=True,
            )
        except OSError:
            for fd in (report_fd_write, report_fd_read, *extra_fds):
                os.close(fd)
            raise
        on_spawn(process.pid)
    os.close(report_fd_write)
    for fd in extra_fds:
        os.close(fd)
    return Started(process, os.pidfd_open(process.pid), report_fd_read)


def supervise(  # noqa: PLR0912, PLR0915 - one event loop over pipes and a pidfd reads best whole
    started_process: Started,
    *,
    stdin_data: bytes,
    wall_limit_s: float,
    stdout_cap: int,
    stderr_cap: int,
    report_cap: int,
    kill_tree: Callable[[int], None],
) -> ProcessOutcome:
    """Hand the job to a started process and run it to completion or to the wall limit (counted
    from the hand-off), then kill whatever is left."""
    started = time.monotonic()
    process, pidfd, report_fd_read = (
        started_process.process,
        started_process.pidfd,
        started_process.report_fd_read,
    )
    assert process.stdin and process.stdout and process.stderr
    stdout, stderr, report = Capture(stdout_cap), Capture(stderr_cap), Capture(report_cap)
    streams = {process.stdout.fileno(): stdout, process.stderr.fileno(): stderr, report_fd_read: report}
    files = {process.stdout.fileno(): process.stdout, process.stderr.fileno(): process.stderr}
    selector = selectors.DefaultSelector()
    for fd in streams:
        os.set_blocking(fd, False)
        selector.register(fd, selectors.EVENT_READ)
    stdin_fd = process.stdin.fileno()
    os.set_blocking(stdin_fd, False)
    selector.register(stdin_fd, selectors.EVENT_WRITE)
    selector.register(pidfd, selectors.EVENT_READ)
    pending = memoryview(stdin_data)
    deadline = started + wall_limit_s
    exited = killed_by_wall = False
    open_streams = set(streams)
    try:
        while open_streams or not exited:
            now = time.monotonic()
            if not exited and now >= deadline:
                killed_by_wall = True
                kill_tree(process.pid)
                deadline = now + 5.0  # the kill itself must finish
            elif exited and now >= deadline:
                break
            for key, _ in selector.select(timeout=max(0.0, deadline - now)):
                fd = int(key.fd)
                if fd == pidfd:
                    exited = True
                    selector.unregister(pidfd)
                    kill_tree(process.pid)  # a daemonised grandchild must not outlive the run
                    deadline = time.monotonic() + DRAIN_AFTER_EXIT_S
                elif fd == stdin_fd:
                    try:
                        written = os.write(stdin_fd, pending[:65536])
                        pending = pending[written:]
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # it stopped reading: nothing more to send
                        pending = pending[len(pending) :]
                    if not pending:
                        selector.unregister(stdin_fd)
                        process.stdin.close()
                else:
                    chunk = os.read(fd, 65536)
                    if not chunk or not streams[fd].feed(chunk):
                        selector.unregister(fd)
                        open_streams.discard(fd)
                        if fd in files:
                            files[fd].close()  # EOF, or a flood past its budget: hang up on it
    finally:
        selector.close()
        if not exited:
            kill_tree(process.pid)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        os.close(pidfd)
        os.close(report_fd_read)
        for pipe in (process.stdin, process.stdout, process.stderr):
            with contextlib.suppress(OSError):
                pipe.close()
    exit_code, exit_signal = _exit_of(status)
    return ProcessOutcome(
        stdout=stdout,
        stderr=stderr,
        report=bytes(report.data).removeprefix(READY) if not report.truncated else b"",
        wall_s=time.monotonic() - started,
        killed_by_wall=killed_by_wall,
        exit_code=exit_code,
        exit_signal=exit_signal,
        cpu_s=usage.ru_utime + usage.ru_stime,
        max_rss_bytes=usage.ru_maxrss * 1024,
    )


def _exit_of(status: int) -> tuple[int | None, int | None]:
    """(exit code, signal); bwrap reports a command killed by signal N as exit code 128+N."""
    if os.WIFSIGNALED(status):
        return None, os.WTERMSIG(status)
    code = os.WEXITSTATUS(status)
    if code > 128:
        return None, code - 128
    return code, None


def rlimit_preexec(limits: list[tuple[int, int, int]], join_fds: list[int]) -> Callable[[], None]:
    """The function run in the child between fork and exec: join cgroups, set rlimits."""

    def apply() -> None:
        for fd in join_fds:
            os.write(fd, b"0")  # cgroup v1: "0" moves the writing process
        for which, soft, hard in limits:
            resource.setrlimit(which, (soft, hard))
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)

    return apply
