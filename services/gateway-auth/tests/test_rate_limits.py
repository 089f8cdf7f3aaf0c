"""Rate limits hold across replicas: two gateway app instances share the buckets in Postgres."""

from __future__ import annotations

import asyncio

from gateway_testkit import ApiFactory

from tradeloom.shared.testing.polling import eventually


async def test_ip_bucket_is_shared_by_two_replicas(make_api: ApiFactory) -> None:
    limits = {"rate_ip_capacity": 6, "rate_ip_per_s": 0.5}
    one, two = await make_api(**limits), await make_api(**limits)
    codes = []
    for index in range(8):  # alternate replicas: 6 allowed in total, not 6 each
        replica = one if index % 2 == 0 else two
        codes.append((await replica.http.get("/v1/system/status")).status_code)
    assert codes.count(429) == 2 and codes[:6].count(429) == 0, codes
    limited = await two.http.get("/v1/system/status")
    assert limited.status_code == 429 and limited.json()["code"] == "rate_limited"
    assert limited.headers["retry-after"] == "2" and limited.json()["retryable"] is True
    other_ip = await make_api(client_ip="198.51.100.9", **limits)
    assert (await other_ip.http.get("/v1/system/status")).status_code == 200

    async def refilled() -> bool:  # 0.5 tokens a second: about 2 s (polled, not slept)
        return (await one.http.get("/v1/system/status")).status_code == 200

    await eventually(refilled, "the shared bucket refilled", interval=0.25)


async def test_user_bucket_follows_the_user_across_ips(make_api: ApiFactory) -> None:
    limits = {"rate_user_capacity": 4, "rate_user_per_s": 0.1}
    here = await make_api(**limits)
    there = await make_api(client_ip="198.51.100.10", **limits)
    _, session = await here.user()
    codes = [
        (await (here if i % 2 else there).http.get("/v1/users/me", headers=session)).status_code
        for i in range(6)
    ]
    assert codes == [200, 200, 200, 200, 429, 429]


async def test_login_bucket_is_stricter_and_concurrent_takes_are_atomic(make_api: ApiFactory) -> None:
    limits = {"rate_login_capacity": 3, "rate_login_per_s": 0.01}
    one, two = await make_api(**limits), await make_api(**limits)
    body = {"email": "nobody@example.com", "password": "whatever-it-is-1"}
    responses = await asyncio.gather(*(api.http.post("/v1/auth/login", json=body) for api in (one, two) * 4))
    codes = sorted(r.status_code for r in responses)
    assert codes == [401, 401, 401, 429, 429, 429, 429, 429], codes
    assert (await one.http.get("/v1/system/status")).status_code == 200  # other buckets unaffected


async def test_replicas_lease_batches_without_overshoot_and_return_unused_tokens(
    make_api: ApiFactory,
) -> None:
    """Capacity 100, lease share 0.1: each replica takes 10 tokens per statement, spends them
    locally, and gives back what an ended lease did not use. Across both replicas no more than the
    capacity is ever admitted (the refill, 0.001/s, is negligible here)."""
    limits = {"rate_ip_capacity": 100, "rate_ip_per_s": 0.001, "rate_lease_share": 0.1, "rate_lease_s": 5}
    one, two = await make_api(**limits), await make_api(**limits)
    assert (await one.http.get("/v1/system/status")).status_code == 200
    assert (await two.http.get("/v1/system/status")).status_code == 200
    key = "ip:203.0.113.7"
    assert round(await one.gateway.limits.tokens(key) or 0) == 80  # two leases of 10 were taken
    codes = [(await (one, two)[i % 2].http.get("/v1/system/status")).status_code for i in range(120)]
    assert codes.count(200) == 98 and codes[:98] == [200] * 98, codes  # 100 in total, not 100 each
    statements = one.gateway.limiter.renewals + two.gateway.limiter.renewals
    assert statements <= 100 // 10 + 2 + 22, statements  # leases, not one statement per request


async def test_an_ended_lease_gives_its_unused_tokens_back(make_api: ApiFactory) -> None:
    limits = {"rate_ip_capacity": 100, "rate_ip_per_s": 0.001, "rate_lease_share": 0.1, "rate_lease_s": 0.2}
    api = await make_api(**limits)
    key = "ip:203.0.113.7"
    assert (await api.http.get("/v1/system/status")).status_code == 200
    assert round(await api.gateway.limits.tokens(key) or 0) == 90  # leased 10, spent 1 locally
    await asyncio.sleep(0.3)  # the lease ended with 9 unused
    assert (await api.http.get("/v1/system/status")).status_code == 200
    assert round(await api.gateway.limits.tokens(key) or 0) == 89  # 90 + 9 back - 10 leased: 2 spent
