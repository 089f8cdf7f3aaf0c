"""The sandbox runner: one bubblewrap process per execution, limits, measurement, fail closed.

Domain-free adapter: it knows processes, namespaces, cgroups and rlimits, not users or quotas.
``prepare()`` checks every layer once (bwrap, setpriv, the seccomp program, the uid pool, cgroups)
and runs a probe inside a real sandbox; until it passes, ``run()`` refuses with the reason
(``SandboxUnavailable``) and never runs code unsandboxed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pwd
import queue
import resource
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradeloom.sandbox_executor.domain.limits import Outcome, RunEvidence, classify
from tradeloom.sandbox_executor.sandbox.cgroups import RunGroups, find_controller_dir
from tradeloom.sandbox_executor.sandbox.layout import (
    BOOT_SCRIPT_IN_SANDBOX,
    SANDBOX_ENV,
    SANDBOX_TMP,
    SandboxLayout,
)
from tradeloom.sandbox_executor.sandbox.process import ProcessOutcome, rlimit_preexec, supervise
from tradeloom.sandbox_executor.sandbox.reaping import become_subreaper, kill_uid, reap_orphans
from tradeloom.sandbox_executor.sandbox.seccomp_filter import build_filter_bpf

MB = 1024 * 1024


class SandboxUnavailable(Exception):
    """Isolation could not be set up; the message says which layer and why."""


@dataclass(frozen=True)
class SandboxConfig:
    bwrap: str = "/usr/bin/bwrap"
    setpriv: str = "/usr/bin/setpriv"
    uid_base: int = 200_000  # uids uid_base..uid_base+slots-1, no passwd entry, one per concurrent run
    slots: int = 2
    tmpfs_mb: int = 16
    max_processes: int = 32
    max_open_files: int = 128
    stdout_max_bytes: int = 65_536
    stderr_max_bytes: int = 65_536
    result_max_bytes: int = 262_144
    address_space_headroom_mb: int = 1024  # RLIMIT_AS above the memory limit when a memory cgroup enforces it
    require_cgroups: bool = False


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


PROBE = """
import os, socket
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines() if ':' in line)
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    inet = 'allowed'
except OSError as error:
    inet = type(error).__name__
result = {'uid': os.getuid(), 'seccomp': status['Seccomp'].strip(),
          'no_new_privs': status['NoNewPrivs'].strip(), 'cap_eff': status['CapEff'].strip(),
          'inet': inet, 'env': sorted(os.environ)}
"""


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
        self._uids: queue.Queue[int] = queue.Queue()
        self._active: set[int] = set()  # bwrap pids of runs in flight (never reaped as orphans)
        self._reap_lock = threading.Lock()  # spawn+record vs orphan reaping (see reaping.py)

    # --- setup -----------------------------------------------------------------------------------
    def prepare(self) -> Isolation:
        """Check every layer and probe a real sandbox; the result is also kept in ``isolation``."""
        try:
            self.isolation = self._prepare()
        except SandboxUnavailable as error:
            self.isolation = Isolation(False, str(error), self.isolation.features)
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
        for slot in range(self.config.slots):
            uid = self.config.uid_base + slot
            try:
                pwd.getpwuid(uid)
                raise SandboxUnavailable(f"sandbox uid {uid} has a passwd entry; choose another uid_base")
            except KeyError:
                pass
            self._uids.put(uid)
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
        self.isolation = Isolation(True, "probing", features)
        probe = self.run(RunRequest(code=PROBE, time_limit_s=20, memory_mb=256))
        self._check_probe(probe)
        return Isolation(True, "ok", features)

    def _check_probe(self, probe: RunResult) -> None:
        found = probe.result if isinstance(probe.result, dict) else {}
        problems = []
        if probe.outcome != Outcome.OK:
            problems.append(f"probe ended {probe.outcome}: {probe.stderr[-500:]} {probe.error}")
        elif found.get("uid") in (None, 0) or found.get("seccomp") != "2" or found.get("no_new_privs") != "1":
            problems.append(f"probe ran without uid drop, seccomp or no_new_privs: {found}")
        elif int(str(found.get("cap_eff", "1")), 16) != 0 or found.get("inet") == "allowed":
            problems.append(f"probe kept capabilities or network sockets: {found}")
        elif unexpected := set(found.get("env", [])) - set(SANDBOX_ENV) - {"PWD"}:
            problems.append(f"probe saw unexpected environment variables: {sorted(unexpected)}")
        if problems:
            raise SandboxUnavailable("; ".join(problems))

    def close(self) -> None:
        """Refuse further runs and remove this runner's (empty) parent cgroups."""
        self.isolation = Isolation(False, "stopped", self.isolation.features)
        for base in (self._pids_base, self._memory_base, self._cpuacct_base):
            if base is not None:
                with contextlib.suppress(OSError):
                    base.rmdir()

    # --- one run ----------------------------------------------------------------------------------
    def run(self, request: RunRequest) -> RunResult:
        if not self.isolation.ready:
            raise SandboxUnavailable(self.isolation.reason)
        uid = self._uids.get()
        groups = RunGroups(None, None)
        try:
            groups = RunGroups.create(
                pids_base=self._pids_base,
                memory_base=self._memory_base,
                name=f"run-{uuid.uuid4().hex[:12]}",
                max_pids=self.config.max_processes,
                memory_bytes=request.memory_mb * MB,
                cpuacct_base=self._cpuacct_base,
            )
            outcome = self._spawn(request, uid, groups)
            return self._result(request, outcome, groups)
        except OSError as error:
            raise SandboxUnavailable(f"cannot set up the run: {error!r}") from error
        finally:
            groups.kill_all()
            if groups.pids_dir is None:
                kill_uid(uid)
            groups.remove()
            with self._reap_lock:
                reap_orphans(self._active)
            self._uids.put(uid)

    def _argv(self, uid: int, report_fd: int, seccomp_fd: int) -> list[str]:
        env_args = ["--clearenv"]
        for key, value in SANDBOX_ENV.items():
            env_args += ["--setenv", key, value]
        return [
            self.config.bwrap,
            *("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup"),
            *("--die-with-parent", "--new-session", "--hostname", "sandbox"),
            *("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"),
            *self.layout.mount_args(self.config.tmpfs_mb * MB),
            *env_args,
            *("--chdir", SANDBOX_TMP, "--seccomp", str(seccomp_fd)),
            self.config.setpriv,
            *("--reuid", str(uid), "--regid", str(uid), "--clear-groups"),
            *("--inh-caps", "-all", "--bounding-set", "-all", "--"),
            self.layout.python,
            *("-I", "-B", "-u", BOOT_SCRIPT_IN_SANDBOX, str(report_fd)),
        ]

    def _limits(self, request: RunRequest, groups: RunGroups) -> list[tuple[int, int, int]]:
        cpu = math.ceil(request.time_limit_s)
        memory = request.memory_mb * MB
        address_space = memory + self.config.address_space_headroom_mb * MB if groups.memory_dir else memory
        tmpfs = self.config.tmpfs_mb * MB
        return [
            (resource.RLIMIT_CPU, cpu, cpu + 1),
            (resource.RLIMIT_AS, address_space, address_space),
            (resource.RLIMIT_FSIZE, tmpfs, tmpfs),
            (resource.RLIMIT_NOFILE, self.config.max_open_files, self.config.max_open_files),
            (resource.RLIMIT_NPROC, self.config.max_processes, self.config.max_processes),
            (resource.RLIMIT_CORE, 0, 0),
        ]

    def _spawn(self, request: RunRequest, uid: int, groups: RunGroups) -> ProcessOutcome:
        report_read, report_write = os.pipe2(os.O_CLOEXEC)
        seccomp_read, seccomp_write = os.pipe2(os.O_CLOEXEC)
        os.write(seccomp_write, self._bpf)
        os.close(seccomp_write)
        join_fds = groups.open_procs_fds()
        job = {
            "code": request.code,
            "input": request.input,
            "capture_variables": request.capture_variables,
            "result_max_bytes": self.config.result_max_bytes,
        }

        def kill_tree(pid: int) -> None:
            if not groups.kill_all():
                os.kill(pid, 9)

        spawned: list[int] = []

        def track(pid: int) -> None:
            spawned.append(pid)
            self._active.add(pid)

        try:
            return supervise(
                self._argv(uid, report_write, seccomp_read),
                stdin_data=json.dumps(job).encode(),
                report_fd_write=report_write,
                report_fd_read=report_read,
                extra_fds=(seccomp_read,),
                preexec=rlimit_preexec(self._limits(request, groups), join_fds),
                wall_limit_s=request.time_limit_s,
                stdout_cap=self.config.stdout_max_bytes,
                stderr_cap=self.config.stderr_max_bytes,
                report_cap=4 * self.config.result_max_bytes + 65_536,
                kill_tree=kill_tree,
                on_spawn=track,
                spawn_guard=self._reap_lock,
            )
        finally:
            for fd in join_fds:
                os.close(fd)
            with self._reap_lock:
                self._active.difference_update(spawned)

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
