"""The client address behind proxies: forwarded headers count only from TRUSTED_PROXIES.

Against a real served gateway (uvicorn as the service runs it): these requests come from
127.0.0.1, which uvicorn alone would trust to name any client in X-Forwarded-For.
"""

from __future__ import annotations

import httpx
import pytest
from gateway_testkit import ServeFactory

from tradeloom.gateway_auth.forwarded import client_address, parse_networks
from tradeloom.gateway_auth.settings import GatewayAuthSettings

BAD_LOGIN = {"email": "nobody@example.com", "password": "not-the-password-1"}
STRICT_LOGIN = {"rate_login_capacity": 2, "rate_login_per_s": 0.001}


def _exhaust_login_bucket(http: httpx.Client, headers: dict[str, str] | None = None) -> None:
    codes = [http.post("/v1/auth/login", json=BAD_LOGIN, headers=headers).status_code for _ in range(3)]
    assert codes == [401, 401, 429], codes


def test_a_forged_forwarded_header_does_not_escape_the_ip_bucket(serve: ServeFactory) -> None:
    with httpx.Client(base_url=serve(**STRICT_LOGIN), timeout=30) as http:
        _exhaust_login_bucket(http)
        for forged in (
            {"X-Forwarded-For": "198.51.100.23"},
            {"Forwarded": "for=198.51.100.24"},
            {"X-Real-IP": "198.51.100.25"},
        ):
            response = http.post("/v1/auth/login", json=BAD_LOGIN, headers=forged)
            assert response.status_code == 429, (forged, response.text)


def test_a_trusted_proxy_names_the_client_and_forgeries_behind_it_do_not_count(
    serve: ServeFactory,
) -> None:
    base_url = serve(trusted_proxies="127.0.0.1/32, ::1", **STRICT_LOGIN)
    with httpx.Client(base_url=base_url, timeout=30) as http:
        _exhaust_login_bucket(http, {"X-Forwarded-For": "198.51.100.1"})
        # the proxy appends the address it saw; what the client wrote itself sits to the left
        forged = {"X-Forwarded-For": "10.1.2.3, 198.51.100.1"}
        assert http.post("/v1/auth/login", json=BAD_LOGIN, headers=forged).status_code == 429
        other = {"X-Forwarded-For": "198.51.100.2"}
        assert http.post("/v1/auth/login", json=BAD_LOGIN, headers=other).status_code == 401
        # the session and the audit log record the client, not the proxy
        email = "proxied@example.com"
        password = "violet-harbor-kettle-42"
        client = {"X-Forwarded-For": "198.51.100.3"}
        http.post("/v1/auth/register", json={"email": email, "password": password}, headers=client)
        tokens = http.post("/v1/auth/login", json={"email": email, "password": password}, headers=client)
        assert tokens.status_code == 200, tokens.text
        auth = {"Authorization": f"Bearer {tokens.json()['access_token']}"}
        sessions = http.get("/v1/users/me/sessions", headers=auth).json()["items"]
        assert {s["ip"] for s in sessions} == {"198.51.100.3"}


def test_forwarded_header_chain_is_read_from_the_right() -> None:
    trusted = parse_networks(["10.0.0.0/8", "2001:db8::/32"])
    xff, fwd = "x-forwarded-for", "forwarded"
    assert client_address("192.0.2.9", ["198.51.100.1"], trusted, xff) == "192.0.2.9"  # untrusted peer
    assert client_address("10.0.0.2", ["1.1.1.1, 198.51.100.1"], trusted, xff) == "198.51.100.1"
    assert client_address("10.0.0.2", ["198.51.100.1, 10.0.0.7"], trusted, xff) == "198.51.100.1"
    assert client_address("10.0.0.2", ["1.1.1.1", "198.51.100.1"], trusted, xff) == "198.51.100.1"
    assert client_address("10.0.0.2", ["10.0.0.3"], trusted, xff) == "10.0.0.3"  # all trusted: leftmost
    assert client_address("10.0.0.2", ["unknown"], trusted, xff) == "10.0.0.2"
    assert client_address("10.0.0.2", ["1.1.1.1, garbage"], trusted, xff) == "10.0.0.2"
    chain = 'for=1.1.1.1;proto=https, for="[2001:db9::5]:4711";by=10.0.0.2'
    assert client_address("2001:db8::1", [chain], trusted, fwd) == "2001:db9::5"
    assert client_address("10.0.0.2", ["for=198.51.100.7:8080"], trusted, fwd) == "198.51.100.7"


def test_trusted_proxies_setting_is_checked() -> None:
    base = {"database_url": "postgresql+asyncpg://u:p@h/d", "jwt_secret": "s" * 32, "environment": "test"}
    assert GatewayAuthSettings(**base).trusted_proxies == []  # nobody by default
    parsed = GatewayAuthSettings(**base, trusted_proxies="10.0.0.0/8, 192.168.1.1")
    assert parsed.trusted_proxies == ["10.0.0.0/8", "192.168.1.1"]
    with pytest.raises(ValueError, match="not an IP address or CIDR"):
        GatewayAuthSettings(**base, trusted_proxies="10.0.0.0/8,ingress")
