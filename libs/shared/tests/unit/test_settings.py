"""Settings: environment prefix, secret files, one-line errors naming the variable, placeholders."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.settings import Environment, ServiceSettings, describe_settings_error, is_placeholder

GOOD_URL = "postgresql+asyncpg://demo:s3cr3t-Pa55@db.internal:5432/tradeloom"


class DemoSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TL_DEMO_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "demo-svc"

    api_key: SecretStr = SecretStr("k-9f8e7d6c5b4a")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TL_DEMO_* or TL_SECRETS_DIR from the machine leaks into these tests."""
    import os

    for name in list(os.environ):
        if name.startswith("TL_DEMO_") or name == "TL_SECRETS_DIR":
            monkeypatch.delenv(name)


def load_error(**overrides: object) -> str:
    with pytest.raises(ValidationError) as caught:
        DemoSettings.load(**overrides)
    message = describe_settings_error(DemoSettings, caught.value)
    assert "\n" not in message
    return message


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", GOOD_URL)
    monkeypatch.setenv("TL_DEMO_NATS_URL", "nats://n1:4222, nats://n2:4222")
    monkeypatch.setenv("TL_DEMO_NATS_PREFIX", "Tenant_A")
    monkeypatch.setenv("TL_DEMO_LOG_LEVEL", "debug")
    monkeypatch.setenv("DATABASE_URL", "postgresql://wrong@elsewhere/x")  # unprefixed: ignored

    settings = DemoSettings.load()

    assert settings.database_url.get_secret_value() == GOOD_URL
    assert settings.nats_prefix == "tenant_a"
    assert settings.log_level == "DEBUG"
    assert settings.db_schema == "demo_svc"  # defaults to the service name
    assert settings.environment is Environment.PRODUCTION
    assert DemoSettings.env_prefix() == "TL_DEMO_"


def test_sqlalchemy_url_uses_asyncpg_whatever_the_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", "postgres://demo:s3cr3t-Pa55@db.internal/tl")
    assert DemoSettings.load().sqlalchemy_url == "postgresql+asyncpg://demo:s3cr3t-Pa55@db.internal/tl"


def test_secret_files_from_secrets_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "TL_DEMO_DATABASE_URL").write_text(GOOD_URL + "\n")
    (tmp_path / "TL_DEMO_API_KEY").write_text("k-from-file-71c3")
    monkeypatch.setenv("TL_SECRETS_DIR", str(tmp_path))

    settings = DemoSettings.load()

    assert settings.database_url.get_secret_value() == GOOD_URL
    assert settings.api_key.get_secret_value() == "k-from-file-71c3"
    assert "s3cr3t" not in repr(settings)  # secrets never show in reprs or logs


def test_environment_wins_over_secret_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "TL_DEMO_API_KEY").write_text("k-from-file-71c3")
    monkeypatch.setenv("TL_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", GOOD_URL)
    monkeypatch.setenv("TL_DEMO_API_KEY", "k-from-env-55aa")
    assert DemoSettings.load().api_key.get_secret_value() == "k-from-env-55aa"


def test_missing_secret_is_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    message = load_error()
    assert message.startswith("invalid settings: ")
    assert "TL_DEMO_DATABASE_URL" in message
    assert "required" in message.lower()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://demo:pw-91@db/tl", "postgresql+asyncpg://"),
        ("postgresql+asyncpg:///tl", "host"),
        ("postgresql+asyncpg://demo:pw-91@db.internal", "database"),
        ("not a url", "postgresql+asyncpg://"),
    ],
)
def test_malformed_database_url(monkeypatch: pytest.MonkeyPatch, url: str, reason: str) -> None:
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", url)
    message = load_error()
    assert "TL_DEMO_DATABASE_URL" in message and reason in message
    assert "pw-91" not in message  # the rejected value is not echoed


@pytest.mark.parametrize(
    "nats_url", ["http://n1:4222", "nats://", "nats://n1:notaport", "nats://n1:4222,localhost:4222"]
)
def test_malformed_nats_url(monkeypatch: pytest.MonkeyPatch, nats_url: str) -> None:
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", GOOD_URL)
    monkeypatch.setenv("TL_DEMO_NATS_URL", nats_url)
    message = load_error()
    assert message.startswith("invalid settings: TL_DEMO_NATS_URL: ")


def test_several_problems_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_DEMO_NATS_URL", "http://x")
    monkeypatch.setenv("TL_DEMO_LOG_LEVEL", "loud")
    message = load_error()
    for variable in ("TL_DEMO_DATABASE_URL", "TL_DEMO_NATS_URL", "TL_DEMO_LOG_LEVEL"):
        assert variable in message


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("TL_DEMO_API_KEY", "change-me", "TL_DEMO_API_KEY"),
        ("TL_DEMO_API_KEY", "", "TL_DEMO_API_KEY"),
        ("TL_DEMO_DATABASE_URL", "postgresql+asyncpg://demo:changeme@db.internal/tl", "TL_DEMO_DATABASE_URL"),
    ],
)
def test_placeholders_refused_in_production(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", GOOD_URL)
    monkeypatch.setenv(variable, value)
    message = load_error()
    assert named in message and "placeholder" in message


@pytest.mark.parametrize("environment", ["development", "test"])
def test_placeholders_allowed_in_development(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    monkeypatch.setenv("TL_DEMO_ENVIRONMENT", environment)
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", "postgresql+asyncpg://demo:change-me@localhost/tl")
    monkeypatch.setenv("TL_DEMO_API_KEY", "change-me")
    settings = DemoSettings.load()
    assert settings.environment == environment
    assert settings.api_key.get_secret_value() == "change-me"


def test_overrides_win_and_bad_prefix_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_DEMO_DATABASE_URL", GOOD_URL)
    assert DemoSettings.load(db_schema="custom").db_schema == "custom"
    assert "TL_DEMO_NATS_PREFIX" in load_error(nats_prefix="a.b")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", True), ("  ", True), ("CHANGE-ME", True), ("todo", True), ("k-9f8e7d6c5b4a", False)],
)
def test_is_placeholder(value: str, expected: bool) -> None:
    assert is_placeholder(value) is expected
