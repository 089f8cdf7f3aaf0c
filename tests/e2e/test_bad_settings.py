"""Bad settings stop a service with one clear log line naming the setting, never a traceback wall."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.ports import free_port

pytestmark = pytest.mark.e2e

GOOD_DB = "postgresql+asyncpg://tl:s3cret-pw@127.0.0.1:{port}/tradeloom"


def run_service(env: dict[str, str], command: str = "run") -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TL_")}
    base["TL_MARKET_DATA_HEALTH_PORT"] = str(free_port())  # never the default port make run holds
    return subprocess.run(
        [sys.executable, "-m", "tradeloom.market_data", command],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def single_line(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    """The one error line; every other line (if any) is a JSON INFO record, never a traceback."""
    assert "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    errors = [record for record in records if record["level"] not in ("DEBUG", "INFO")]
    assert len(errors) == 1, result.stderr
    assert errors[0]["level"] == "CRITICAL"
    return errors[0]


def test_missing_secret_names_the_variable() -> None:
    result = run_service({})
    assert result.returncode == 2
    assert "TL_MARKET_DATA_DATABASE_URL" in single_line(result)["message"]


def test_malformed_database_url_names_the_variable() -> None:
    result = run_service({"TL_MARKET_DATA_DATABASE_URL": "mysql://nope"})
    assert result.returncode == 2
    message = single_line(result)["message"]
    assert "TL_MARKET_DATA_DATABASE_URL" in message and "postgresql" in message


def test_malformed_nats_url_names_the_variable() -> None:
    result = run_service(
        {"TL_MARKET_DATA_DATABASE_URL": GOOD_DB.format(port=5432), "TL_MARKET_DATA_NATS_URL": "http//x"}
    )
    assert result.returncode == 2
    assert "TL_MARKET_DATA_NATS_URL" in single_line(result)["message"]


def test_placeholder_secret_refused_in_production_only() -> None:
    placeholder = "postgresql+asyncpg://tl:change-me@127.0.0.1:5432/tradeloom"
    result = run_service({"TL_MARKET_DATA_DATABASE_URL": placeholder})
    assert result.returncode == 2
    assert "placeholder" in single_line(result)["message"]


def test_unreachable_nats_names_the_variable() -> None:
    result = run_service(
        {
            "TL_MARKET_DATA_DATABASE_URL": GOOD_DB.format(port=free_port()),
            "TL_MARKET_DATA_NATS_URL": f"nats://127.0.0.1:{free_port()}",
            "TL_MARKET_DATA_STARTUP_TIMEOUT_S": "1",
        }
    )
    assert result.returncode == 3
    assert "TL_MARKET_DATA_NATS_URL" in single_line(result)["message"]


def test_unreachable_database_names_the_variable(nats_server: NatsServer, nats_url: str) -> None:
    result = run_service(
        {
            "TL_MARKET_DATA_DATABASE_URL": GOOD_DB.format(port=free_port()),
            "TL_MARKET_DATA_NATS_URL": nats_url,
            "TL_MARKET_DATA_NATS_PASSWORD": nats_server.passwords["market-data"],
            "TL_MARKET_DATA_STARTUP_TIMEOUT_S": "1",
        }
    )
    assert result.returncode == 3
    assert "TL_MARKET_DATA_DATABASE_URL" in single_line(result)["message"]


@pytest.mark.parametrize("password", [None, "not-the-password"])
def test_refused_nats_credentials_name_the_password_variable(nats_url: str, password: str | None) -> None:
    result = run_service(
        {
            "TL_MARKET_DATA_DATABASE_URL": GOOD_DB.format(port=free_port()),
            "TL_MARKET_DATA_NATS_URL": nats_url,
            # long enough for one refused attempt on a loaded machine (a connect may take over 2 s)
            "TL_MARKET_DATA_STARTUP_TIMEOUT_S": "8",
        }
        | ({"TL_MARKET_DATA_NATS_PASSWORD": password} if password else {})
    )
    assert result.returncode == 3
    message = single_line(result)["message"]
    assert "TL_MARKET_DATA_NATS_PASSWORD" in message and "market-data" in message


def test_migrate_against_unreachable_database_is_one_line() -> None:
    result = run_service({"TL_MARKET_DATA_DATABASE_URL": GOOD_DB.format(port=free_port())}, "migrate")
    assert result.returncode == 3
    assert "TL_MARKET_DATA_DATABASE_URL" in single_line(result)["message"]


def test_secret_from_mounted_file(tmp_path: object, nats_url: str) -> None:
    from pathlib import Path

    secrets_dir = Path(str(tmp_path))
    (secrets_dir / "TL_MARKET_DATA_DATABASE_URL").write_text("postgresql+asyncpg://u:pw-file@127.0.0.1:1/db")
    result = run_service(
        {"TL_SECRETS_DIR": str(secrets_dir), "TL_MARKET_DATA_NATS_URL": "http//bad"},
    )
    message = single_line(result)["message"]
    assert "TL_MARKET_DATA_NATS_URL" in message  # the database URL came from the file
    assert "DATABASE_URL" not in message
