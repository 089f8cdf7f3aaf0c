"""``make run``: the whole platform on one machine, data kept under ``.devstack/``.

Starts NATS and Postgres (or uses ``NATS_URL`` / ``DATABASE_URL``), creates one role and schema per
service, creates the JetStream streams, migrates every schema with each service's own ``migrate``
command, then runs all eight services under honcho with prefixed logs. Ctrl-C stops the services,
then the servers. Settings: ``TL_DEVSTACK_DIR`` (default ``.devstack``), ``TL_DEV_NATS_PORT``
(4222), ``TL_DEV_PG_PORT`` (54329), ``TL_DEV_GATEWAY_PORT`` (8000), ``TL_DEV_PORT_BASE`` (9100:
health ports are base+1..base+8).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
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

from tools.devstack_servers import DevNats, DevPostgres, DevServerError
from tradeloom.shared.contracts.catalog import SCHEMAS, SERVICES
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


async def bootstrap_streams(nats_url: str) -> None:
    client = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        await ensure_streams(client.jetstream())
    finally:
        await client.close()


def service_url(admin_url: str, service: str, password: str) -> str:
    parts = urlsplit(admin_url)
    netloc = f"tl_{package(service)}:{password}@{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(("postgresql+asyncpg", netloc, "/" + DATABASE, "", ""))


def service_env(root: Path, admin_url: str, nats_url: str, passwords: dict[str, str]) -> dict[str, str]:
    """Every service's settings, as environment variables, for honcho's env file."""
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
    for service, process in processes.items():
        output, _ = process.communicate(timeout=120)
        if process.returncode != 0:
            failed.append(f"{service}: {output.decode(errors='replace').strip()[-800:]}")
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


def write_honcho_files(root: Path, env: dict[str, str]) -> tuple[Path, Path]:
    procfile, envfile = root / "Procfile", root / "services.env"
    procfile.write_text(
        "".join(
            f"{service}: exec {sys.executable} -m tradeloom.{package(service)} run\n" for service in SERVICES
        )
    )
    envfile.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
    envfile.chmod(0o600)
    return procfile, envfile


def up() -> int:
    root = Path(os.environ.get("TL_DEVSTACK_DIR", ROOT / ".devstack")).resolve()
    root.mkdir(parents=True, exist_ok=True)
    nats_server = postgres = None
    try:
        nats_url = os.environ.get("NATS_URL")
        if not nats_url:
            port = int(os.environ.get("TL_DEV_NATS_PORT", "4222"))
            nats_server = DevNats(
                root, port, int(os.environ.get("TL_DEV_NATS_MONITOR_PORT", str(port + 4000)))
            )
            nats_server.start()
            nats_url = nats_server.url
        admin_url = os.environ.get("DATABASE_URL", "").replace("postgresql+asyncpg://", "postgresql://")
        if not admin_url:
            postgres = DevPostgres(root, int(os.environ.get("TL_DEV_PG_PORT", "54329")))
            postgres.start()
            admin_url = postgres.admin_url()
        print(
            f"devstack: NATS {nats_url}, Postgres {urlsplit(admin_url).hostname}:{urlsplit(admin_url).port}"
        )
        passwords = service_passwords(root)
        asyncio.run(bootstrap_database(admin_url, passwords))
        asyncio.run(bootstrap_streams(nats_url))
        env = service_env(root, admin_url, nats_url, passwords)
        migrate_all(env)
        procfile, envfile = write_honcho_files(root, env)
        gateway = f"http://127.0.0.1:{env['TL_GATEWAY_AUTH_HTTP_PORT']}"
        print(f"devstack: gateway {gateway}  (status: {gateway}/v1/system/status, docs: {gateway}/v1/docs)")
        print("devstack: Ctrl-C stops everything; data stays in", root)
        honcho = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "-f",
                str(procfile),
                "-e",
                str(envfile),
                "-d",
                str(ROOT),
                "start",
            ]
        )
        threading.Thread(target=demo_login, args=(root, gateway), daemon=True).start()
        interrupted = []

        def on_ctrl_c(*_: object) -> None:  # honcho gets Ctrl-C too and stops the services
            interrupted.append(True)

        def on_term(*_: object) -> None:
            interrupted.append(True)
            honcho.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, on_ctrl_c)
        signal.signal(signal.SIGTERM, on_term)
        code = honcho.wait()
        return 0 if interrupted and code in (0, 130, -signal.SIGINT, -signal.SIGTERM) else code
    except DevServerError as error:
        print(f"devstack: {error}", file=sys.stderr)
        return 1
    except (OSError, asyncpg.PostgresError, nats.errors.Error) as error:
        print(f"devstack: cannot bootstrap: {error!r}", file=sys.stderr)
        return 1
    finally:
        if nats_server:
            nats_server.stop()
        if postgres:
            postgres.stop()
        print("devstack: stopped")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["up"])
    parser.parse_args()
    return up()


if __name__ == "__main__":
    raise SystemExit(main())
