"""infra/compose validates against the vendored Compose Specification and tools/compose_check.py bites."""

from __future__ import annotations

import copy
import hashlib
import re
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml


@pytest.fixture
def compose(compose_check: ModuleType) -> dict[str, Any]:
    data: dict[str, Any] = compose_check.load()
    return copy.deepcopy(data)


def test_compose_file_is_valid(compose_check: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert compose_check.check() == []
    assert compose_check.main([]) == 0
    assert "is valid" in capsys.readouterr().out


def test_every_service_is_built_from_the_one_dockerfile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("gateway-auth", "market-data", "sandbox-executor", "strategy-runner"):
        assert services[name]["build"]["args"]["SERVICE"] == name
        assert services[name]["build"]["dockerfile"] == "Dockerfile"
    assert services["bootstrap"]["build"]["args"]["SERVICE"] == "all"
    assert [name for name, svc in services.items() if "ports" in svc] == ["gateway-auth"]


def test_invalid_key_fails_schema_validation(compose_check: ModuleType, compose: dict[str, Any]) -> None:
    compose["services"]["market-data"]["restart_policy"] = "always"
    errors = compose_check.check(data=compose)
    assert len(errors) == 1
    assert errors[0].startswith("schema: services.market-data:") and "restart_policy" in errors[0]


def test_wrong_type_fails_schema_validation(compose_check: ModuleType, compose: dict[str, Any]) -> None:
    compose["services"]["nats"]["healthcheck"]["retries"] = "many"
    assert compose_check.check(data=compose) == [
        "schema: services.nats.healthcheck.retries: 'many' is not of type 'number'"
    ]


def test_build_arg_must_name_a_service(compose_check: ModuleType, compose: dict[str, Any]) -> None:
    compose["services"]["market-data"]["build"]["args"]["SERVICE"] = "market_data"
    assert compose_check.check(data=compose) == [
        "service market-data: build arg SERVICE='market_data' is not a Tradeloom service"
    ]


def test_only_the_gateway_publishes_ports(compose_check: ModuleType, compose: dict[str, Any]) -> None:
    compose["services"]["timescaledb"]["ports"] = ["5432:5432"]
    assert compose_check.check(data=compose) == ["service timescaledb: only gateway-auth may publish ports"]


def test_references_must_resolve(compose_check: ModuleType, compose: dict[str, Any]) -> None:
    analytics = compose["services"]["analytics"]  # a fresh dict: depends_on is shared through <<: *service
    analytics["depends_on"] = {**analytics["depends_on"], "natz": {"condition": "service_started"}}
    compose["services"]["analytics"]["networks"] = ["backend", "public"]
    compose["services"]["analytics"]["env_file"] = ["analytics.env"]
    assert compose_check.check(data=compose) == [
        "service analytics: depends_on unknown service 'natz'",
        "service analytics: network 'public' is not declared under networks",
        "service analytics: env_file analytics.env has neither the file nor analytics.env.example",
    ]


def test_nats_must_sync_every_write(compose_check: ModuleType, compose: dict[str, Any]) -> None:
    compose["services"]["nats"]["volumes"] = ["nats-data:/data"]
    assert compose_check.check(data=compose) == [
        "service nats: needs a config file with jetstream sync_interval: always"
    ]


def test_variables_without_default_must_be_in_env_example(
    compose_check: ModuleType, compose: dict[str, Any]
) -> None:
    compose["services"]["gateway-auth"]["environment"]["TL_GATEWAY_AUTH_JWT_KEY"] = "${TL_JWT_KEY:?set it}"
    compose["services"]["gateway-auth"]["environment"]["TL_GATEWAY_AUTH_X"] = "${TL_X:-fine} $${NOT_A_VAR}"
    assert compose_check.check(data=compose) == [
        "variable TL_JWT_KEY is used without a default but is not in .env.example"
    ]


def test_env_example_holds_only_placeholders(compose_check: ModuleType, tmp_path: Path) -> None:
    example = compose_check.COMPOSE_DIR / ".env.example"
    values = compose_check.read_env_example(example)
    assert all(v == "change-me" for k, v in values.items() if k.endswith("PASSWORD"))
    leaked = tmp_path / ".env.example"
    leaked.write_text(example.read_text().replace("POSTGRES_PASSWORD=change-me", "POSTGRES_PASSWORD=hunter2"))
    errors = compose_check.variable_errors(compose_check.load(), leaked)
    assert errors == [
        ".env.example: POSTGRES_PASSWORD must be the placeholder 'change-me', never a real secret"
    ]


def test_main_fails_on_a_broken_file(
    compose_check: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "docker-compose.yml"
    data = compose_check.load()
    data["services"]["nats"]["bogus"] = True
    broken.write_text(yaml.safe_dump(data))
    shutil.copy(compose_check.COMPOSE_DIR / ".env.example", tmp_path)
    assert compose_check.main([str(broken)]) == 1
    assert "'bogus' does not match" in capsys.readouterr().err


def test_vendored_schema_matches_its_recorded_checksum(compose_check: ModuleType) -> None:
    schema_dir = compose_check.SCHEMA_FILE.parent
    recorded = re.search(r"`([0-9a-f]{64})`", (schema_dir / "README.md").read_text())
    assert recorded is not None
    assert hashlib.sha256(compose_check.SCHEMA_FILE.read_bytes()).hexdigest() == recorded.group(1)
    assert "Apache License" in (schema_dir / "LICENSE").read_text()
