"""``make run``: the whole platform on one machine, data kept under ``.devstack/``.

Starts NATS and Postgres (or uses ``NATS_URL`` / ``DATABASE_URL``), creates one role and schema per
service, creates the JetStream streams, migrates every schema with each service's own ``migrate``
command, then runs all eight services, each supervised (``tools/devstack_supervisor.py``: a crashed
service or server is restarted with capped exponential backoff while the others keep running;
logs prefixed by honcho's printer). Ctrl-C, SIGINT or SIGTERM to this process stops the services,
then NATS, then Postgres, and exits 0. Settings: ``TL_DEVSTACK_DIR`` (default ``.devstack``),
``TL_DEV_NATS_PORT`` (4222), ``TL_DEV_PG_PORT`` (54329), ``TL_DEV_GATEWAY_PORT`` (8000),
``TL_DEV_PORT_BASE`` (9100: health ports are base+1..base+8), ``TL_DEV_RESTART_FIRST_S`` (0.5) and
``TL_DEV_RESTART_MAX_S`` (15): the first and the longest wait before a crashed program restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import ctypes
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import nats

from tools.devstack_nats import nats_authorization, nats_env, nats_passwords
from tools.devstack_servers import DevNats, DevPostgres, DevServerError
from tools.devstack_supervisor import Program, Supervisor
from tradeloom.shared.contracts.catalog import SCHEMAS, SERVICES
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.streams import ensure_streams

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "tradeloom"


def package(service: str) -> str:
    return service.replace("-", "_")


def _credential_keys() -> str:
    """order-router's keyring: one AES-256 key, version 1 (``version:base64key``)."""
    return "1:" + base64.b64encode(secrets.token_bytes(32)).decode()


# Secrets beyond database passwords, generated once per dev stack (never in git).
GENERATED_SECRETS: dict[str, Callable[[], str]] = {
    "TL_GATEWAY_AUTH_JWT_SECRET": lambda: secrets.token_urlsafe(48),
    "TL_ORDER_ROUTER_CREDENTIAL_KEYS": _credential_keys,
}


def generated_secrets(root: Path) -> dict[str, str]:
    """Random values for every secret setting, kept in ``.devstack/secrets.env`` across restarts."""
    path = root / "secrets.env"
    known = (
        dict(line.split("=", 1) for line in path.read_text().split() if "=" in line) if path.exists() else {}
    )
    for name, generate in GENERATED_SECRETS.items():
        if name not in known:
            known[name] = generate()
    path.write_text("".join(f"{name}={value}\n" for name, value in known.items()))
    path.chmod(0o600)
    return known


def service_passwords(root: Path) -> dict[str, str]:
    """One generated password per service role, kept in ``.devstack/role-passwords`` (never in git)."""
    path = root / "role-passwords"
    known = (
        dict(line.split("=", 1) for line in path.read_text().split() if "=" in line) if path.exists() else {}
    )
    for service in SERVICES:
        known.setdefault(service, secrets.token_urlsafe(18))
    path.write_text("".join(f"{name}={value}\n" for name, value in known.items()))
    path.chmod(0o600)
    return known


async def bootstrap_database(admin_url: str, passwords: dict[str, str]) -> None:
    """Create the database, and per service a login role owning its schema (idempotent)."""
    connection = await asyncpg.connect(admin_url, timeout=10)
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE):
            await connection.execute(f"CREATE DATABASE {DATABASE}")
    finally:
        await connection.close()
    parts = urlsplit(admin_url)
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/" + DATABASE)), timeout=10)
    try:
        await connection.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        for service, password in passwords.items():
            role, schema = f"tl_{package(service)}", SCHEMAS[service]
            exists = await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
            verb = "ALTER" if exists else "CREATE"
            quoted = password.replace("'", "''")
            await connection.execute(f"{verb} ROLE {role} LOGIN PASSWORD '{quoted}'")
            await connection.execute(f"GRANT CONNECT ON DATABASE {DATABASE} TO {role}")
            await connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}")
    finally:
        await connection.close()


async def bootstrap_streams(nats_url: str, nats_secrets: dict[str, str]) -> None:
    """Create the streams as the admin identity (its password generated here, or from the environment)."""
    options = admin_options(os.environ | nats_secrets)
    client = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0, **options)
    try:
        await ensure_streams(client.jetstream())
    finally:
        await client.close()


def service_url(admin_url: str, service: str, password: str) -> str:
    parts = urlsplit(admin_url)
    netloc = f"tl_{package(service)}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(("postgresql+asyncpg", netloc, "/" + DATABASE, "", ""))


def service_env(root: Path, admin_url: str, nats_url: str, passwords: dict[str, str]) -> dict[str, str]:
    """Every service's settings, as environment variables."""
    port_base = int(os.environ.get("TL_DEV_PORT_BASE", "9100"))
    env: dict[str, str] = {}
    for index, service in enumerate(SERVICES, start=1):
        prefix = f"TL_{package(service).upper()}_"
        env[prefix + "ENVIRONMENT"] = "development"
        env[prefix + "DATABASE_URL"] = service_url(admin_url, service, passwords[service])
        env[prefix + "NATS_URL"] = nats_url
        env[prefix + "HEALTH_PORT"] = str(port_base + index)
        env[prefix + "LOG_JSON"] = os.environ.get("TL_DEV_LOG_JSON", "false")
    env["TL_GATEWAY_AUTH_HTTP_PORT"] = os.environ.get("TL_DEV_GATEWAY_PORT", "8000")
    env["TL_GATEWAY_AUTH_DASHBOARD_DIR"] = str(ROOT / "dashboard" / "dist")  # built by make install
    env["PYTHONUNBUFFERED"] = "1"
    return env | generated_secrets(root)


def migrate_all(env: dict[str, str]) -> None:
    """Run every service's own ``migrate`` command, in parallel."""
    processes = {
        service: subprocess.Popen(
            [sys.executable, "-m", f"tradeloom.{package(service)}", "migrate"],
            env=os.environ | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for service in SERVICES
    }
    failed = []
    try:
        for service, process in processes.items():
            output, _ = process.communicate(timeout=120)
            if process.returncode != 0:
                failed.append(f"{service}: {output.decode(errors='replace').strip()[-800:]}")
    finally:  # stopped meanwhile (Stopped, a timeout): leave no migration running
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    if failed:
        raise DevServerError("migrations failed:\n" + "\n".join(failed))


def demo_login(root: Path, gateway: str, timeout_s: float = 90.0) -> None:
    """Once the gateway answers, make sure the demo user exists and print how to log in."""
    path = root / "demo-login"
    if not path.exists():
        path.write_text(f"demo@tradeloom.dev {secrets.token_urlsafe(15)}\n")
        path.chmod(0o600)
    email, password = path.read_text().split()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            answer = httpx.post(
                f"{gateway}/v1/auth/register",
                json={"email": email, "password": password, "display_name": "Demo trader"},
                timeout=10,
            )
        except httpx.HTTPError:
            time.sleep(1)
            continue
        if answer.status_code in (200, 201, 409):  # 409: created on an earlier run
            print(f"devstack: demo login {email} / {password}  (POST {gateway}/v1/auth/login)", flush=True)
            demo_paper_account(gateway, email, password, time.monotonic() + timeout_s)
            return
        time.sleep(1)
    print("devstack: could not create the demo user (is gateway-auth up?)", file=sys.stderr, flush=True)


def demo_paper_account(gateway: str, email: str, password: str, deadline: float) -> None:
    """Give the demo user one paper account (10,000 USDT on the synthetic market) unless it has one."""
    while time.monotonic() < deadline:
        try:
            tokens = httpx.post(
                f"{gateway}/v1/auth/login", json={"email": email, "password": password}, timeout=10
            )
            headers = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
            accounts = httpx.get(f"{gateway}/v1/accounts", headers=headers, timeout=10)
            if accounts.status_code == 200 and accounts.json()["items"]:
                return
            if accounts.status_code == 200:
                made = httpx.post(
                    f"{gateway}/v1/accounts", headers=headers, json={"name": "demo paper"}, timeout=10
                )
                if made.status_code == 201:
                    print(
                        f"devstack: demo paper account {made.json()['account_id']} (10,000 USDT)", flush=True
                    )
                    return
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(1)  # order-router may still be starting
    print(
        "devstack: could not open the demo paper account (is order-router up?)", file=sys.stderr, flush=True
    )


class Stopped(Exception):
    """SIGINT or SIGTERM arrived while the stack was still starting."""


def service_programs(env: dict[str, str]) -> list[Program]:
    return [
        Program(
            service,
            [sys.executable, "-m", f"tradeloom.{package(service)}", "run"],
            env=os.environ | env,
            cwd=ROOT,
            group=2,
        )
        for service in SERVICES
    ]


def start_servers(root: Path, supervisor: Supervisor) -> tuple[str, str, dict[str, str]]:
    """NATS and Postgres under supervision (or the ones named by NATS_URL / DATABASE_URL); also the
    services' NATS credentials for a NATS server started here (none for one named by NATS_URL)."""
    nats_url = os.environ.get("NATS_URL")
    nats_secrets: dict[str, str] = {}
    if not nats_url:
        port = int(os.environ.get("TL_DEV_NATS_PORT", "4222"))
        identities = nats_passwords(root)
        nats_secrets = nats_env(identities)
        nats_server = DevNats(
            root,
            port,
            int(os.environ.get("TL_DEV_NATS_MONITOR_PORT", str(port + 4000))),
            nats_authorization(identities),
        )
        supervisor.start_and_wait(nats_server.program(), f"nats-server (is port {port} free?)", 20)
        nats_url = nats_server.url
    admin_url = os.environ.get("DATABASE_URL", "").replace("postgresql+asyncpg://", "postgresql://")
    if not admin_url:
        postgres = DevPostgres(root, int(os.environ.get("TL_DEV_PG_PORT", "54329")))
        supervisor.start_and_wait(postgres.program(), f"Postgres (is port {postgres.port} free?)", 90)
        admin_url = postgres.admin_url()
    return nats_url, admin_url, nats_secrets


def stop_with_make() -> None:
    """Under ``make run``, get SIGTERM when make exits: GNU make dies at once on SIGTERM without
    passing it on, which used to leave the whole stack running without its parent."""
    try:
        parent = Path(f"/proc/{os.getppid()}/comm").read_text().strip()
    except OSError:
        return
    if parent != "make" or not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def up() -> int:
    root = Path(os.environ.get("TL_DEVSTACK_DIR", ROOT / ".devstack")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(
        first_s=float(os.environ.get("TL_DEV_RESTART_FIRST_S", "0.5")),
        max_s=float(os.environ.get("TL_DEV_RESTART_MAX_S", "15")),
    )
    starting = [True]

    def on_signal(*_: object) -> None:
        first = not supervisor.stopping.is_set()
        supervisor.stopping.set()  # ends supervisor.run()
        if first and starting[0]:
            starting[0] = False
            raise Stopped

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stop_with_make()
        nats_url, admin_url, nats_secrets = start_servers(root, supervisor)
        print(
            f"devstack: NATS {nats_url}, Postgres {urlsplit(admin_url).hostname}:{urlsplit(admin_url).port}"
        )
        passwords = service_passwords(root)
        asyncio.run(bootstrap_database(admin_url, passwords))
        asyncio.run(bootstrap_streams(nats_url, nats_secrets))
        env = service_env(root, admin_url, nats_url, passwords) | nats_secrets
        migrate_all(env)
        gateway = f"http://127.0.0.1:{env['TL_GATEWAY_AUTH_HTTP_PORT']}"
        print(f"devstack: gateway {gateway}  (status: {gateway}/v1/system/status, docs: {gateway}/v1/docs)")
        print("devstack: a crashed service or server restarts by itself; Ctrl-C or SIGTERM stops everything")
        print("devstack: data stays in", root, flush=True)
        for program in service_programs(env):
            supervisor.add(program)
        threading.Thread(target=demo_login, args=(root, gateway), daemon=True).start()
        starting[0] = False
        supervisor.run()
        return 0
    except Stopped:
        return 0
    except (DevServerError, RuntimeError) as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, nats.errors.Error) as error:
        print(f"devstack: cannot bootstrap: {error!r}", file=sys.stderr)
        return 1
    finally:
        starting[0] = False
        supervisor.stop()
        print("devstack: stopped", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up"])
    parser.parse_args()
    return up()


if __name__ == "__main__":
    raise SystemExit(main())
