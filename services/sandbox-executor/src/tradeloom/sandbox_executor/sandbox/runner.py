"""The sandbox runner: one bubblewrap process per execution, limits, measurement, fail closed.

Domain-free adapter: it knows processes, namespaces, cgroups and rlimits, not users or quotas.
``prepare()`` checks every layer once (bwrap, setpriv, the seccomp program, the uid pool, cgroups)
and runs a probe inside a real sandbox; until it passes, ``run()`` refuses with the reason
(``SandboxUnavailable``) and never runs code unsandboxed. With ``pool_size`` > 0 each uid slot
keeps one single-use worker started ahead of its job (``pool.py``); a run takes one, fits the
request's limits to it, hands over the job, and the worker is killed after that one run.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import resource
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeloom.sandbox_executor.domain.limits import Outcome, RunEvidence, classify
from tradeloom.sandbox_executor.sandbox.cgroups import RunGroups, find_controller_dir
from tradeloom.sandbox_executor.sandbox.command import MB, SandboxConfig, bwrap_argv, rlimits
from tradeloom.sandbox_executor.sandbox.layout import SandboxLayout
from tradeloom.sandbox_executor.sandbox.pool import WorkerPool
from tradeloom.sandbox_executor.sandbox.probe import PROBE, probe_problems
from tradeloom.sandbox_executor.sandbox.process import (
    ProcessOutcome,
    Started,
    rlimit_preexec,
    start,
    supervise,
)
from tradeloom.sandbox_executor.sandbox.reaping import become_subreaper, kill_uid, reap_orphans
from tradeloom.sandbox_executor.sandbox.seccomp_filter import build_filter_bpf

READY_TIMEOUT_S = 60  # a ready worker's start (bwrap, setpriv, the interpreter) on a loaded box

__all__ = ["RunRequest", "RunResult", "SandboxConfig", "SandboxRunner", "SandboxUnavailable"]


class SandboxUnavailable(Exception):
    """Isolation could not be set up; the message says which layer and why."""


@dataclass(frozen=True)
class RunRequest:
    code: str
    time_limit_s: float
    memory_mb: int
    input: Any = None
    capture_variables: bool = False


@dataclass
class RunResult:
    outcome: Outcome
    stdout: str
    stderr: str
    stdout_truncated: bool
    stderr_truncated: bool
    wall_s: float
    cpu_s: float
    peak_memory_bytes: int
    result: Any = None
    result_error: str | None = None
    variables: dict[str, Any] | None = None
    error: dict[str, str] | None = None
    syntax_error: dict[str, Any] | None = None
    exit_code: int | None = None
    exit_signal: int | None = None

    @property
    def success(self) -> bool:
        return self.outcome == Outcome.OK


@dataclass
class Isolation:
    ready: bool = False
    reason: str = "not prepared"
    features: dict[str, str] = field(default_factory=dict)


@dataclass
class Worker:
    """One sandbox process with its uid and per-run cgroups, used for exactly one run."""

    uid: int
    groups: RunGroups
    process: Started

    def alive(self) -> bool:
        return self.process.alive()


class SandboxRunner:
    """Runs code in the sandbox; thread-safe, at most ``config.slots`` runs at once."""

    def __init__(self, config: SandboxConfig, layout: SandboxLayout) -> None:
        self.config = config
        self.layout = layout
        self.isolation = Isolation()
        self._bpf = b""
        self._pids_base: Path | None = None
        self._memory_base: Path | None = None
        self._cpuacct_base: Path | None = None
        self._pool: WorkerPool[Worker] = WorkerPool([], 0, self._start_worker, self._discard)
        self._active: set[int] = set()  # bwrap pids of runs in flight (never reaped as orphans)
        self._reap_lock = threading.Lock()  # spawn+record vs orphan reaping (see reaping.py)

    # --- setup -----------------------------------------------------------------------------------
    def prepare(self) -> Isolation:
        """Check every layer and probe a real sandbox; the result is also kept in ``isolation``."""
        try:
            self.isolation = self._prepare()
        except SandboxUnavailable as error:
            self.isolation = Isolation(False, str(error), self.isolation.features)
            self._pool.close()  # no ready workers behind a refusal
        return self.isolation

    def _prepare(self) -> Isolation:
        features: dict[str, str] = {}
        self.isolation = Isolation(False, "preparing", features)
        if os.geteuid() != 0:
            raise SandboxUnavailable(
                "the executor must run as root to create namespaces and drop to the sandbox uid"
            )
        for name, path in (("bwrap", self.config.bwrap), ("setpriv", self.config.setpriv)):
            if not os.access(path, os.X_OK):
                raise SandboxUnavailable(f"{name} not found or not executable at {path}")
            features[name] = path
        try:
            self._bpf = build_filter_bpf()
        except Exception as error:
            raise SandboxUnavailable(f"cannot build the seccomp filter: {error!r}") from error
        features["seccomp"] = f"{len(self._bpf)} bytes of BPF"
        uids = [self.config.uid_base + slot for slot in range(self.config.slots)]
        for uid in uids:
            try:
                pwd.getpwuid(uid)
                raise SandboxUnavailable(f"sandbox uid {uid} has a passwd entry; choose another uid_base")
            except KeyError:
                pass
        features["uids"] = f"{self.config.uid_base}..{self.config.uid_base + self.config.slots - 1}"
        name = f"tradeloom-sandbox-{os.getpid()}-{uuid.uuid4().hex[:6]}"  # this runner's own parent
        self._pids_base, pids_state = find_controller_dir("pids", name)
        self._memory_base, memory_state = find_controller_dir("memory", name)
        self._cpuacct_base, cpuacct_state = find_controller_dir("cpuacct", name)
        features["cgroup_pids"] = (
            "ok" if self._pids_base else f"missing ({pids_state}): RLIMIT_NPROC per uid only"
        )
        features["cgroup_memory"] = (
            "ok"
            if self._memory_base
            else f"missing ({memory_state}): RLIMIT_AS only, peak memory from rusage"
        )
        features["cgroup_cpuacct"] = (
            "ok" if self._cpuacct_base else f"missing ({cpuacct_state}): CPU time from rusage (undercounts)"
        )
        if self.config.require_cgroups and not (self._pids_base and self._memory_base):
            raise SandboxUnavailable(
                f"cgroups required but {features['cgroup_pids']}; {features['cgroup_memory']}"
            )
        features["subreaper"] = "ok" if become_subreaper() else "failed"
        pool_size = min(self.config.pool_size, self.config.slots) if self._pids_base else 0
        self._pool = WorkerPool(uids, pool_size, self._start_worker, self._discard)
        features["pool"] = (
            f"{pool_size} ready single-use workers"
            if pool_size
            else ("off: every run starts its sandbox" if self._pids_base or not self.config.pool_size
                  else "off: needs the pids cgroup")
        )  # fmt: skip
        self.isolation = Isolation(True, "probing", features)
        probe = self.run(RunRequest(code=PROBE, time_limit_s=20, memory_mb=256))  # a cold start
        self._check_probe(probe)
        if pool_size:
            self._pool.start()
            if not self._pool.wait_settled(60) or not self._pool.counts()["ready"]:
                raise SandboxUnavailable(f"the worker pool did not fill: {self._pool.counts()}")
            self._check_probe(self.run(RunRequest(code=PROBE, time_limit_s=20, memory_mb=256)))
        return Isolation(True, "ok", features)

    def _check_probe(self, probe: RunResult) -> None:
        if problems := probe_problems(probe.outcome, probe.result, probe.stderr, probe.error):
            raise SandboxUnavailable("; ".join(problems))

    def pool_counts(self) -> dict[str, int]:
        """Uid slots that are free, held by ready workers, or being spawned (runs hold the rest)."""
        return self._pool.counts()

    def wait_pool_settled(self, timeout_s: float = 60) -> bool:
        return self._pool.wait_settled(timeout_s)

    def idle_pids(self) -> set[int]:
        """Processes of the ready workers (which have run nothing yet)."""
        return {pid for worker in self._pool.ready() for pid in worker.groups.pids()}

    def idle_group_names(self) -> set[str]:
        """The per-run cgroup names the ready workers hold."""
        return {
            directory.name
            for worker in self._pool.ready()
            for directory in (worker.groups.pids_dir, worker.groups.memory_dir, worker.groups.cpuacct_dir)
            if directory is not None
        }

    def close(self) -> None:
        """Refuse further runs, kill ready workers and remove this runner's (empty) parent cgroups."""
        self.isolation = Isolation(False, "stopped", self.isolation.features)
        self._pool.close()
        for base in (self._pids_base, self._memory_base, self._cpuacct_base):
            if base is not None:
                with contextlib.suppress(OSError):
                    base.rmdir()

    # --- one run ----------------------------------------------------------------------------------
    def run(self, request: RunRequest) -> RunResult:
        if not self.isolation.ready:
            raise SandboxUnavailable(self.isolation.reason)
        uid, worker = self._pool.acquire()
        handed_over = False
        try:
            if worker is not None and not self._fits(request):
                self._discard(worker)  # beyond a ready worker's ceiling: this run starts its own
                worker = None
            if worker is None:
                worker = self._start_worker(uid, request)
            else:
                worker.groups.set_memory_limit(request.memory_mb * MB)
            handed_over = True
            outcome = self._execute(worker, request)
            return self._result(request, outcome, worker.groups)
        except OSError as error:
            raise SandboxUnavailable(f"cannot set up the run: {error!r}") from error
        finally:
            if worker is not None and not handed_over:
                self._discard(worker)  # it never got the job: kill and reap it, close its descriptors
            elif worker is not None:
                worker.groups.kill_all()
            if worker is None or worker.groups.pids_dir is None:
                kill_uid(uid)
            if worker is not None:
                worker.groups.remove()
            with self._reap_lock:
                reap_orphans(self._active)
            self._pool.release(uid)

    def _start_worker(self, uid: int, request: RunRequest | None = None) -> Worker:
        """A sandbox for ``uid`` blocked before its job: a cold one for ``request``, or (no request)
        a ready one with the pool's ceiling, returned once its bootstrap is loaded."""
        limits = request or RunRequest(
            code="",
            time_limit_s=self.config.pool_spawn_time_limit_s,
            memory_mb=self.config.pool_spawn_memory_mb,
        )
        groups = RunGroups.create(
            pids_base=self._pids_base,
            memory_base=self._memory_base,
            name=f"run-{uuid.uuid4().hex[:12]}",
            max_pids=self.config.max_processes,
            memory_bytes=limits.memory_mb * MB,
            cpuacct_base=self._cpuacct_base,
        )
        try:
            worker = Worker(uid, groups, self._spawn(uid, limits, groups))
        except BaseException:
            groups.kill_all()
            groups.remove()
            raise
        if request is None and not worker.process.wait_ready(READY_TIMEOUT_S):
            self._discard(worker)
            raise SandboxUnavailable(f"a ready worker did not start within {READY_TIMEOUT_S} s")
        return worker

    def _fits(self, request: RunRequest) -> bool:
        """Whether a ready worker's rlimits can be lowered to the request's (they cannot be raised:
        the executor needs no CAP_SYS_RESOURCE, and the bootstrap lowers them itself)."""
        return (
            request.time_limit_s <= self.config.pool_spawn_time_limit_s
            and request.memory_mb <= self.config.pool_spawn_memory_mb
        )

    def _discard(self, worker: Worker) -> None:
        """Kill a worker that never ran (pool closing, or it died while idle)."""
        try:
            worker.process.discard(lambda pid: self._kill_tree(worker.groups, pid))
        finally:
            worker.groups.remove()
            with self._reap_lock:
                self._active.discard(worker.process.process.pid)

    @staticmethod
    def _kill_tree(groups: RunGroups, pid: int) -> None:
        if not groups.kill_all():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)

    def _spawn(self, uid: int, limits: RunRequest, groups: RunGroups) -> Started:
        report_read, report_write = os.pipe2(os.O_CLOEXEC)
        seccomp_read, seccomp_write = os.pipe2(os.O_CLOEXEC)
        os.write(seccomp_write, self._bpf)
        os.close(seccomp_write)
        join_fds = groups.open_procs_fds()
        try:
            return start(
                bwrap_argv(self.config, self.layout, uid, report_write, seccomp_read),
                report_fd_write=report_write,
                report_fd_read=report_read,
                extra_fds=(seccomp_read,),
                preexec=rlimit_preexec(
                    rlimits(
                        self.config, limits.time_limit_s, limits.memory_mb, groups.memory_dir is not None
                    ),
                    join_fds,
                ),
                on_spawn=self._active.add,
                spawn_guard=self._reap_lock,
            )
        finally:
            for fd in join_fds:
                os.close(fd)

    def _execute(self, worker: Worker, request: RunRequest) -> ProcessOutcome:
        job = {
            "code": request.code,
            "input": request.input,
            "capture_variables": request.capture_variables,
            "result_max_bytes": self.config.result_max_bytes,
            # the request's CPU and address-space rlimits, set by the bootstrap before the code runs
            # (a ready worker started with the pool's ceiling; a cold one already has them)
            "rlimits": [
                limit
                for limit in rlimits(
                    self.config, request.time_limit_s, request.memory_mb, worker.groups.memory_dir is not None
                )
                if limit[0] in (resource.RLIMIT_CPU, resource.RLIMIT_AS)
            ],
        }
        try:
            return supervise(
                worker.process,
                stdin_data=json.dumps(job).encode(),
                wall_limit_s=request.time_limit_s,
                stdout_cap=self.config.stdout_max_bytes,
                stderr_cap=self.config.stderr_max_bytes,
                report_cap=4 * self.config.result_max_bytes + 65_536,
                kill_tree=lambda pid: self._kill_tree(worker.groups, pid),
            )
        finally:
            with self._reap_lock:
                self._active.discard(worker.process.process.pid)

    def _result(self, request: RunRequest, raw: ProcessOutcome, groups: RunGroups) -> RunResult:
        cpu_s = groups.cpu_seconds() or raw.cpu_s
        try:
            report = json.loads(raw.report) if raw.report else {}
        except ValueError:
            report = {}
        if not isinstance(report, dict):
            report = {}
        error = report.get("error") if isinstance(report.get("error"), dict) else None
        evidence = RunEvidence(
            reported=bool(report),
            syntax_error=bool(report.get("syntax_error")),
            user_exception_type=(error or {}).get("type"),
            killed_by_wall=raw.killed_by_wall,
            exit_signal=raw.exit_signal,
            cpu_s=cpu_s,
            time_limit_s=request.time_limit_s,
            oom_killed=groups.oom_killed(),
        )
        outcome = classify(evidence)
        if outcome == Outcome.ERROR and error is None:
            how = f"signal {raw.exit_signal}" if raw.exit_signal else f"exit code {raw.exit_code}"
            error = {
                "type": "ProcessExited",
                "message": f"the process ended without a result ({how})",
                "traceback": "",
            }
        return RunResult(
            outcome=outcome,
            stdout=raw.stdout.data.decode("utf-8", "replace"),
            stderr=raw.stderr.data.decode("utf-8", "replace"),
            stdout_truncated=raw.stdout.truncated,
            stderr_truncated=raw.stderr.truncated,
            wall_s=raw.wall_s,
            cpu_s=cpu_s,
            peak_memory_bytes=groups.peak_memory_bytes() or raw.max_rss_bytes,
            result=report.get("result"),
            result_error=report.get("result_error"),
            variables=report.get("variables"),
            error=error,
            syntax_error=report.get("syntax_error"),
            exit_code=raw.exit_code,
            exit_signal=raw.exit_signal,
        )
