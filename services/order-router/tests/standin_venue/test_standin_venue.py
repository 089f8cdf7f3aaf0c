"""The stand-in venue checks keys, signatures and timestamps like Binance, and keeps state on disk."""

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest


def signed_query(secret: str, **params: Any) -> str:
    query = urlencode({"timestamp": int(time.time() * 1000), "recvWindow": 5000} | params)
    return query + "&signature=" + hmac.new(secret.encode(), query.encode(), hashlib.sha256).hexdigest()


async def get(venue: Any, path: str, query: str, api_key: str | None) -> tuple[int, Any]:
    headers = {"X-MBX-APIKEY": api_key} if api_key else {}
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{venue.base_url}{path}?{query}", headers=headers) as response,
    ):
        return response.status, await response.json()


async def test_signed_request_is_answered(standin_venue: Any) -> None:
    status, body = await get(
        standin_venue, "/api/v3/account", signed_query(standin_venue.secret), standin_venue.api_key
    )
    assert status == 200
    assert {"asset": "USDT", "free": "10000.00000000", "locked": "0.00000000"} in body["balances"]


async def test_bad_signature_wrong_key_missing_key_and_stale_timestamp_are_refused(
    standin_venue: Any,
) -> None:
    good = signed_query(standin_venue.secret)
    assert await get(
        standin_venue, "/api/v3/account", signed_query("another-secret"), standin_venue.api_key
    ) == (
        400,
        {"code": -1022, "msg": "Signature for this request is not valid."},
    )
    status, body = await get(standin_venue, "/api/v3/account", good, "someone-elses-key")
    assert (status, body["code"]) == (401, -2015)
    status, body = await get(standin_venue, "/api/v3/account", good, None)
    assert (status, body["code"]) == (401, -2014)
    stale = signed_query(standin_venue.secret, timestamp=int(time.time() * 1000) - 120_000)
    status, body = await get(standin_venue, "/api/v3/account", stale, standin_venue.api_key)
    assert (status, body["code"]) == (400, -1021)


async def test_public_exchange_info_needs_no_key(standin_venue: Any) -> None:
    status, body = await get(standin_venue, "/api/v3/exchangeInfo", "", None)
    assert status == 200
    assert [s["symbol"] for s in body["symbols"]] == ["BTCUSDT", "ETHUSDT"]


@pytest.mark.parametrize("hard", [True, False], ids=["sigkill", "restart-control"])
async def test_state_survives_a_restart(standin_venue: Any, hard: bool) -> None:
    await standin_venue.control("set_permissions", withdraw=True)
    before = await standin_venue.control("state")
    await standin_venue.restart(hard=hard)
    after = await standin_venue.control("state")
    assert after["boot_id"] != before["boot_id"]
    assert after["permissions"]["withdraw"] is True


async def post_order(venue: Any, **params: Any) -> tuple[int, Any]:
    body = signed_query(venue.secret, **params)
    headers = {"X-MBX-APIKEY": venue.api_key, "Content-Type": "application/x-www-form-urlencoded"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{venue.base_url}/api/v3/order", data=body, headers=headers) as response,
    ):
        return response.status, await response.json()


LIMIT = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "40000"}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (LIMIT, -1102),  # no timeInForce
        (LIMIT | {"timeInForce": "GTC", "colour": "blue"}, -1104),
        (LIMIT | {"timeInForce": "GTC", "quantity": "1e-2"}, -1100),
        (LIMIT | {"timeInForce": "GTC", "price": "40000.001"}, -1013),
        (LIMIT | {"timeInForce": "GTC", "symbol": "DOGEUSDT"}, -1121),
    ],
    ids=["missing-tif", "unknown-param", "exponent", "off-tick", "unknown-symbol"],
)
async def test_order_parameters_are_checked_like_binance(
    standin_venue: Any, params: dict[str, str], code: int
) -> None:
    status, body = await post_order(standin_venue, **params)
    assert (status, body["code"]) == (400, code)
    assert (await standin_venue.control("state"))["orders"] == {}


async def test_signed_post_body_creates_an_order(standin_venue: Any) -> None:
    status, body = await post_order(standin_venue, **LIMIT, timeInForce="GTC", newClientOrderId="raw-1")
    assert status == 200
    assert (body["clientOrderId"], body["status"], body["origQty"], body["fills"]) == (
        "raw-1", "NEW", "0.01000000", [],
    )  # fmt: skip
