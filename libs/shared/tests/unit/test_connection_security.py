"""TLS and credentials settings: Postgres ``sslmode`` for asyncpg, NATS user, inbox and TLS options."""

from __future__ import annotations

import ssl
from typing import ClassVar

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from tradeloom.shared.db import split_ssl
from tradeloom.shared.nats_auth import admin_options, connect_options, service_options
from tradeloom.shared.settings import ServiceSettings, describe_settings_error

URL = "postgresql+asyncpg://u:s3cr3t-pw@db.internal:5432/tradeloom"


class ProbeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TL_PROBE_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "market-data"


def test_verify_full_checks_the_ca_and_the_host_name() -> None:
    url, context = split_ssl(URL + "?sslmode=verify-full&application_name=x")
    assert url == URL + "?application_name=x"
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED


def test_verify_ca_checks_the_ca_only_and_weaker_modes_pass_by_name() -> None:
    _, context = split_ssl(URL + "?sslmode=verify-ca")
    assert isinstance(context, ssl.SSLContext) and not context.check_hostname
    assert split_ssl(URL + "?sslmode=require") == (URL, "require")
    assert split_ssl(URL) == (URL, None)  # dev and tests: no TLS


def test_a_bad_sslmode_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_PROBE_DATABASE_URL", URL + "?sslmode=sometimes")
    with pytest.raises(ValidationError) as caught:
        ProbeSettings.load()
    message = describe_settings_error(ProbeSettings, caught.value)
    assert "TL_PROBE_DATABASE_URL" in message and "sslmode" in message


def test_a_service_connects_as_itself_with_its_own_inbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_PROBE_DATABASE_URL", URL)
    monkeypatch.setenv("TL_PROBE_NATS_PASSWORD", "pw-1234-abcd")
    options = service_options(ProbeSettings.load())
    assert options == {
        "user": "market-data",
        "password": "pw-1234-abcd",
        "inbox_prefix": "_INBOX.market-data",
    }


def test_without_a_password_no_credentials_are_sent() -> None:
    assert connect_options("market-data", None) == {"inbox_prefix": "_INBOX.market-data"}


def test_a_client_certificate_needs_its_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TL_PROBE_DATABASE_URL", URL)
    monkeypatch.setenv("TL_PROBE_NATS_TLS_CERT", "/etc/tls/client.crt")
    with pytest.raises(ValidationError) as caught:
        ProbeSettings.load()
    assert "TL_PROBE_NATS_TLS_KEY" in describe_settings_error(ProbeSettings, caught.value)


def test_admin_options_read_the_environment_or_secret_files(tmp_path: object) -> None:
    from pathlib import Path

    secrets = Path(str(tmp_path))
    (secrets / "TL_NATS_PASSWORD").write_text("from-file\n")
    assert admin_options({"TL_SECRETS_DIR": str(secrets)}) == {
        "user": "tl-admin",
        "password": "from-file",
        "inbox_prefix": "_INBOX",
    }
    assert admin_options({"TL_NATS_PASSWORD": "env", "TL_NATS_USER": "ops"})["user"] == "ops"
    assert "password" not in admin_options({})
