"""/v1/market/subscriptions and /v1/market/imports through the gateway against a REAL market-data
runtime: admins start and stop (scope ``admin``: a user's session gets 403), everyone lists; bad
input is a 422 naming the public field."""

from __future__ import annotations

from gateway_testkit import Api
from test_routes_market_data import fields, md_api

__all__ = ["md_api"]  # a fixture of the module it comes from


async def test_admin_starts_lists_and_stops_a_subscription(md_api: Api) -> None:
    api = md_api
    _, user = await api.user()
    _, admin = await api.admin()
    body = {"venue": "sim", "symbol": "SOL-USDT", "books": False}
    assert (await api.http.post("/v1/market/subscriptions", headers=user, json=body)).status_code == 403
    started = await api.http.post("/v1/market/subscriptions", headers=admin, json=body)
    assert started.status_code == 200, started.text
    assert {k: started.json()[k] for k in ("venue", "symbol", "books", "source", "desired")} == {
        "venue": "sim", "symbol": "SOL/USDT", "books": False, "source": "api", "desired": "running",
    }  # fmt: skip
    unknown = await api.http.post(
        "/v1/market/subscriptions", headers=admin, json={"venue": "nowhere", "symbol": "SOL/USDT"}
    )
    assert (unknown.status_code, fields(unknown)) == (422, ["body.venue"])
    misspelt = await api.http.post(
        "/v1/market/subscriptions", headers=admin, json={"venue": "sim", "symbol": "SOLUSDT"}
    )
    assert (misspelt.status_code, fields(misspelt)) == (422, ["body.symbol"])
    configured = await api.http.post(
        "/v1/market/subscriptions", headers=admin, json={"venue": "sim", "symbol": "ETH/USDT"}
    )
    assert configured.status_code == 409, configured.text

    listed = await api.http.get("/v1/market/subscriptions", headers=user, params={"venue": "sim"})
    assert listed.status_code == 200, listed.text
    sources = {s["symbol"]: s["source"] for s in listed.json()["subscriptions"]}
    assert sources == {
        "BTC/USDT": "settings",
        "ETH/USDT": "settings",
        "BTC/USDT:USDT": "settings",
        "SOL/USDT": "api",
    }

    ref = {"venue": "sim", "symbol": "SOL/USDT"}
    assert (await api.http.delete("/v1/market/subscriptions", headers=user, params=ref)).status_code == 403
    stopped = await api.http.delete("/v1/market/subscriptions", headers=admin, params=ref)
    assert (stopped.status_code, stopped.json()["desired"]) == (200, "stopped"), stopped.text
    missing = await api.http.delete(
        "/v1/market/subscriptions", headers=admin, params={"venue": "sim", "symbol": "XRP/USDT"}
    )
    assert missing.status_code == 404, missing.text

    # historical imports: admin only; the synthetic venue is no ccxt venue
    span = {"venue": "sim", "symbol": "BTC/USDT", "from_ns": 0, "to_ns": 60 * 10**9}
    assert (await api.http.post("/v1/market/imports", headers=user, json=span)).status_code == 403
    not_ccxt = await api.http.post("/v1/market/imports", headers=admin, json=span)
    assert (not_ccxt.status_code, fields(not_ccxt)) == (422, ["body.venue"])
    imports = await api.http.get("/v1/market/imports", headers=user, params={"limit": 5})
    assert (imports.status_code, imports.json()) == (200, {"imports": []})
    unknown_id = await api.http.get("/v1/market/imports", headers=user, params={"import_id": "nope"})
    assert (unknown_id.status_code, fields(unknown_id)) == (422, ["query.import_id"])

    # option chains: admin only; the synthetic venue is no ccxt venue
    chain = {"venue": "sim", "underlying": "BTC/USDT"}
    assert (await api.http.post("/v1/market/option-chains", headers=user, json=chain)).status_code == 403
    not_ccxt = await api.http.post("/v1/market/option-chains", headers=admin, json=chain)
    assert (not_ccxt.status_code, fields(not_ccxt)) == (422, ["body.venue"])
