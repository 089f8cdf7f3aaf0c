"""Login lockout cannot be turned against the owner, and distributed guessing is still slowed.

Against a real served gateway behind a "proxy" (TRUSTED_PROXIES=127.0.0.1): each request names its
client address in X-Forwarded-For, as an ingress would, so attackers can come from many addresses.
"""

from __future__ import annotations

import httpx
from gateway_testkit import PASSWORD, ServeFactory

OWNER_IP = "198.51.100.50"
LOCKOUT = {
    "trusted_proxies": "127.0.0.1/32",
    "lockout_after": 3,
    "lockout_account_after": 6,
    "lockout_base_s": 300,
}


def _login(http: httpx.Client, email: str, password: str, ip: str) -> int:
    body = {"email": email, "password": password}
    return http.post("/v1/auth/login", json=body, headers={"X-Forwarded-For": ip}).status_code


def test_attackers_elsewhere_cannot_lock_the_owner_out_but_are_slowed(serve: ServeFactory) -> None:
    with httpx.Client(base_url=serve(**LOCKOUT), timeout=60) as http:
        email = "owner@example.com"
        body = {"email": email, "password": PASSWORD}
        registered = http.post("/v1/auth/register", json=body, headers={"X-Forwarded-For": OWNER_IP})
        assert registered.status_code == 201, registered.text
        assert _login(http, email, PASSWORD, OWNER_IP) == 200  # the owner's usual address

        # one attacker address: locked after LOCKOUT_AFTER failures, even with the right password
        codes = [_login(http, email, "wrong-password-1", "203.0.113.1") for _ in range(4)]
        assert codes == [401, 401, 429, 429], codes
        assert _login(http, email, PASSWORD, "203.0.113.1") == 429

        # a distributed run (two tries per address) trips the looser per-account limit ...
        codes = [_login(http, email, "wrong-password-2", f"203.0.113.{10 + i // 2}") for i in range(4)]
        assert codes[-1] == 429, codes
        # ... which holds every new address, even with the right password
        assert _login(http, email, PASSWORD, "203.0.113.99") == 429
        assert _login(http, email, "wrong-password-3", "203.0.113.98") == 429

        # the owner, from their own address, is not locked out
        assert _login(http, email, PASSWORD, OWNER_IP) == 200
        # and their audit trail shows what happened
        token = http.post("/v1/auth/login", json=body, headers={"X-Forwarded-For": OWNER_IP}).json()[
            "access_token"
        ]
        audit = http.get("/v1/users/me/audit?limit=50", headers={"Authorization": f"Bearer {token}"})
        outcomes = {(row["action"], row["outcome"]) for row in audit.json()["items"]}
        assert {("login", "failure"), ("login", "locked"), ("login", "success")} <= outcomes


def test_password_spraying_from_one_address_is_slowed(serve: ServeFactory) -> None:
    """One address, one common password, many accounts: the per-address login bucket stops it."""
    base_url = serve(trusted_proxies="127.0.0.1/32", rate_login_capacity=5, rate_login_per_s=0.001)
    with httpx.Client(base_url=base_url, timeout=60) as http:
        codes = [_login(http, f"victim{i}@example.com", "Summer2026!", "203.0.113.50") for i in range(8)]
        assert codes == [401] * 5 + [429] * 3, codes
        assert _login(http, "victim9@example.com", "Summer2026!", "203.0.113.51") == 401  # others unaffected
