"""The escape battery: each attempt runs in the real sandbox and its contained outcome is asserted."""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tradeloom.sandbox_executor.domain.limits import Outcome
from tradeloom.sandbox_executor.sandbox.reaping import processes_of_uid
from tradeloom.sandbox_executor.sandbox.runner import RunResult, SandboxRunner

from .conftest import TEST_UID_BASE

REPO = Path(__file__).resolve().parents[3]  # wherever the checkout is (CI clones it elsewhere)

Run = Callable[..., RunResult]

TRY = """
def attempt(action):
    try:
        return ['ok', action()]
    except BaseException as error:
        return [type(error).__name__, getattr(error, 'errno', None)]
"""


def attempts(run: Run, body: str, **limits: object) -> list[list[object]]:
    answer = run(TRY + body, **limits)
    assert answer.outcome == Outcome.OK, answer
    assert isinstance(answer.result, list)
    return answer.result


def no_sandbox_processes(runner: SandboxRunner) -> bool:
    """Nothing runs under the sandbox uids but the ready workers (which have run nothing yet)."""
    assert runner.wait_pool_settled()
    idle = runner.idle_pids()
    return not any(set(processes_of_uid(TEST_UID_BASE + slot)) - idle for slot in range(2))


def test_network_is_unreachable(run: Run) -> None:
    outcome = attempts(
        run,
        "import socket\n"
        "result = [attempt(lambda: socket.create_connection(('127.0.0.1', port), timeout=1).close())"
        " for port in (5432, 4222, 22)]\n"
        "result.append(attempt(lambda: socket.create_connection(('1.1.1.1', 53), timeout=1).close()))\n"
        "result.append(attempt(lambda: socket.create_connection(('example.com', 80), timeout=1).close()))\n",
    )
    assert all(kind != "ok" for kind, _ in outcome), outcome
    assert outcome[0] == ["PermissionError", errno.EACCES]


def test_cannot_read_host_secrets_or_other_users_files(run: Run) -> None:
    outcome = attempts(
        run,
        f"paths = ['/etc/shadow', '/etc/passwd', '/root/.bashrc', '{REPO}/.devstack/pg/admin-password',"
        " '/proc/1/environ', '/home']\n"
        "result = [attempt(lambda p=p: open(p, 'rb').read(10)) for p in paths]\n",
    )
    assert [kind for kind, _ in outcome] == [
        "FileNotFoundError",
        "FileNotFoundError",
        "FileNotFoundError",
        "FileNotFoundError",
        "PermissionError",
        "FileNotFoundError",
    ]


def test_cannot_see_the_service_environment(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_SANDBOX_EXECUTOR_DATABASE_URL", "postgresql://svc:topsecret@db/tradeloom")
    answer = run(
        "import os, glob\n"
        "leaks = [k for k in os.environ if 'TL_' in k or 'DATABASE' in k]\n"
        "for path in glob.glob('/proc/*/environ'):\n"
        "    try:\n"
        "        if b'topsecret' in open(path, 'rb').read():\n"
        "            leaks.append(path)\n"
        "    except OSError:\n"
        "        pass\n"
        "result = leaks\n"
    )
    assert answer.outcome == Outcome.OK and answer.result == []


def test_proc_shows_only_the_sandbox(run: Run) -> None:
    answer = run("import os\nresult = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())")
    assert answer.outcome == Outcome.OK
    assert isinstance(answer.result, list) and len(answer.result) <= 3 and max(answer.result) < 10
    assert os.getpid() not in answer.result or os.getpid() < 10


def test_cannot_write_outside_tmpfs_and_tmpfs_is_private(run: Run) -> None:
    outcome = attempts(
        run,
        f"paths = ['/evil', '/usr/evil', '/sandbox/boot.py', '{sys.prefix}/evil', '/dev/evil']\n"
        "result = [attempt(lambda p=p: open(p, 'w').write('x')) for p in paths]\n"
        "result.append(attempt(lambda: open('/tmp/mine', 'w').write('private')))\n",
    )
    assert all(kind in ("PermissionError", "OSError") for kind, _ in outcome[:-1]), outcome
    assert outcome[-1] == ["ok", 7]
    later = attempts(run, "result = [attempt(lambda: open('/tmp/mine').read())]\n")
    assert later == [["FileNotFoundError", errno.ENOENT]]


def test_filling_the_tmpfs_stops_at_its_size(run: Run) -> None:
    answer = run(
        "with open('/tmp/big', 'wb') as f:\n    for _ in range(64):\n        f.write(b'x' * 1048576)\n"
    )
    assert answer.outcome == Outcome.ERROR and answer.error is not None
    assert answer.error["type"] == "OSError" and (
        "No space" in answer.error["message"] or "large" in answer.error["message"]
    )


def test_fork_bomb_is_contained(run: Run, runner: SandboxRunner) -> None:
    answer = run("import os\nwhile True:\n    os.fork()\n", time_limit_s=2)
    assert answer.outcome in (Outcome.ERROR, Outcome.TIME_LIMIT)
    assert answer.wall_s < 4
    assert no_sandbox_processes(runner)


@pytest.mark.parametrize(
    "code",
    [
        "x = bytearray(1500 * 1024 * 1024)",
        "chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))\n",
    ],
    ids=["one-big", "growing"],
)
def test_memory_bomb_hits_the_memory_limit(run: Run, code: str) -> None:
    answer = run(code, memory_mb=96, time_limit_s=10)
    assert answer.outcome == Outcome.MEMORY_LIMIT, answer
    assert answer.peak_memory_bytes <= 100 * 1024 * 1024


def test_infinite_loop_hits_the_time_limit(run: Run) -> None:
    answer = run("while True:\n    pass\n", time_limit_s=1)
    assert answer.outcome == Outcome.TIME_LIMIT
    assert 0.9 < answer.wall_s < 2.5


def test_sleeping_past_the_wall_limit(run: Run) -> None:
    answer = run("import time\nprint('start', flush=True)\ntime.sleep(100)\n", time_limit_s=1)
    assert answer.outcome == Outcome.TIME_LIMIT
    assert answer.stdout == "start\n" and answer.wall_s < 2.5 and answer.cpu_s < 0.9


def test_daemonised_grandchild_does_not_outlive_the_run(run: Run, runner: SandboxRunner) -> None:
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        for fd in (0, 1, 2):\n"
        "            os.close(fd)\n"
        "        time.sleep(60)\n"
        "    os._exit(0)\n"
        "time.sleep(0.2)\n"
        "result = 'parent done'\n"
    )
    answer = run(code, time_limit_s=5)
    assert answer.outcome == Outcome.OK and answer.result == "parent done"
    assert answer.wall_s < 2
    assert no_sandbox_processes(runner)


def test_stdout_flood_is_capped(run: Run) -> None:
    answer = run("import sys\nwhile True:\n    sys.stdout.write('x' * 10000)\n", time_limit_s=3)
    assert answer.stdout_truncated and len(answer.stdout) == 4096
    assert answer.outcome in (Outcome.ERROR, Outcome.TIME_LIMIT)
    assert answer.wall_s < 4


def test_dangerous_syscalls_fail_even_through_ctypes(run: Run) -> None:
    code = (
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "def call(fn, *args):\n"
        "    ctypes.set_errno(0)\n"
        "    return [fn(*args), ctypes.get_errno()]\n"
        "result = {\n"
        "    'ptrace': call(libc.ptrace, 16, 1, 0, 0),\n"
        "    'mount': call(libc.mount, b'none', b'/tmp', b'tmpfs', 0, None),\n"
        "    'umount': call(libc.umount2, b'/proc', 2),\n"
        "    'unshare_user': call(libc.unshare, 0x10000000),\n"
        "    'unshare_net': call(libc.unshare, 0x40000000),\n"
        "    'setns': call(libc.setns, 0, 0),\n"
        "    'keyctl': call(libc.syscall, 250, 0, 0, 0, 0),\n"
        "    'bpf': call(libc.syscall, 321, 0, 0, 0),\n"
        "    'setuid_root': call(libc.setuid, 0),\n"
        "}\n"
    )
    answer = run(code)
    assert answer.outcome == Outcome.OK, answer
    assert isinstance(answer.result, dict)
    for name, (value, err) in answer.result.items():
        assert value == -1 and err == errno.EPERM, (name, value, err)


def test_many_runs_leak_nothing(run: Run, runner: SandboxRunner) -> None:
    assert runner.wait_pool_settled()  # the same number of ready workers (and their fds) before and after
    fds_before = len(os.listdir("/proc/self/fd"))
    for index in range(15):
        answer = run(f"print({index})")
        assert answer.outcome == Outcome.OK and answer.stdout == f"{index}\n"
    assert no_sandbox_processes(runner)
    assert len(os.listdir("/proc/self/fd")) <= fds_before
    zombies = [
        pid for pid in os.listdir("/proc") if pid.isdigit() and _ppid_and_state(pid) == (os.getpid(), "Z")
    ]
    assert zombies == []
    idle_groups = runner.idle_group_names()
    for base in (runner._pids_base, runner._memory_base, runner._cpuacct_base):
        # per-run groups removed: only the ready workers' own remain
        assert base is None or {p.name for p in base.iterdir() if p.is_dir()} == idle_groups
    counts = runner.pool_counts()
    assert counts["free"] + counts["ready"] == 2 and counts["spawning"] == 0  # every uid slot returned


def _ppid_and_state(pid: str) -> tuple[int, str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid = raw[raw.rindex(")") + 2 :].split()[:2]
    return int(ppid), state
