"""The sandbox's command line (bubblewrap, setpriv, the interpreter) and its rlimits, from the config."""

from __future__ import annotations

import math
import resource
from dataclasses import dataclass

from tradeloom.sandbox_executor.sandbox.layout import (
    BOOT_SCRIPT_IN_SANDBOX,
    SANDBOX_ENV,
    SANDBOX_TMP,
    SandboxLayout,
)

MB = 1024 * 1024


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
    pool_size: int = 0  # ready single-use workers (at most slots; needs the pids cgroup)
    pool_spawn_memory_mb: int = 2048  # a ready worker's ceiling (memory cgroup, RLIMIT_AS, RLIMIT_CPU):
    pool_spawn_time_limit_s: float = 300  # a run lowers it to its own; a larger request starts cold


def bwrap_argv(
    config: SandboxConfig, layout: SandboxLayout, uid: int, report_fd: int, seccomp_fd: int
) -> list[str]:
    env_args = ["--clearenv"]
    for key, value in SANDBOX_ENV.items():
        env_args += ["--setenv", key, value]
    return [
        config.bwrap,
        *("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup"),
        *("--die-with-parent", "--new-session", "--hostname", "sandbox"),
        *("--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"),
        *layout.mount_args(config.tmpfs_mb * MB),
        *env_args,
        *("--chdir", SANDBOX_TMP, "--seccomp", str(seccomp_fd)),
        config.setpriv,
        *("--reuid", str(uid), "--regid", str(uid), "--clear-groups"),
        *("--inh-caps", "-all", "--bounding-set", "-all", "--"),
        layout.python,
        *("-I", "-B", "-u", BOOT_SCRIPT_IN_SANDBOX, str(report_fd)),
    ]


def rlimits(
    config: SandboxConfig, time_limit_s: float, memory_mb: int, memory_cgroup: bool
) -> list[tuple[int, int, int]]:
    """(resource, soft, hard) of one run; RLIMIT_AS gets headroom when a memory cgroup enforces the limit."""
    cpu = math.ceil(time_limit_s)
    memory = memory_mb * MB
    address_space = memory + config.address_space_headroom_mb * MB if memory_cgroup else memory
    tmpfs = config.tmpfs_mb * MB
    return [
        (resource.RLIMIT_CPU, cpu, cpu + 1),
        (resource.RLIMIT_AS, address_space, address_space),
        (resource.RLIMIT_FSIZE, tmpfs, tmpfs),
        (resource.RLIMIT_NOFILE, config.max_open_files, config.max_open_files),
        (resource.RLIMIT_NPROC, config.max_processes, config.max_processes),
        (resource.RLIMIT_CORE, 0, 0),
    ]
