"""The reply envelope of ``handle_request``: data, or one of the stable error codes."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.context import CallerContext, request_id_var
from tradeloom.shared.errors import STATUS_BY_CODE, Conflict, NotFound, ServiceError
from tradeloom.shared.rpc import Operation, handle_request


@dataclass
class FakeRequest:
    """Stands in for ``nats.micro.request.Request``: only ``data`` and ``headers`` are read."""

    data: bytes
    headers: dict[str, str] | None = field(default=None)


class Order(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=1)
    quantity: int = Field(gt=0)


class Placed(BaseModel):
    order_id: str
    by: str | None
    request_id: str | None


seen: list[CallerContext] = []


async def place(caller: CallerContext, body: Order) -> Placed:
    seen.append(caller)
    if body.symbol == "MISSING":
        raise NotFound("no such instrument", details={"symbol": body.symbol})
    if body.symbol == "DUP":
        raise Conflict("duplicate client order id")
    if body.symbol == "CUSTOM":
        raise ServiceError("risk says no", code="risk_rejected", details={"limit": "max_position"})
    if body.symbol == "BOOM":
        raise RuntimeError("password=hunter2 at db.internal")
    return Placed(order_id=f"o-{body.quantity}", by=caller.user_id, request_id=request_id_var.get())


OPERATION = Operation("place", Order, Placed, place)


async def call(data: bytes, headers: dict[str, str] | None = None) -> dict[str, Any]:
    reply = await handle_request(OPERATION, "order-router", FakeRequest(data, headers))  # type: ignore[arg-type]
    decoded: dict[str, Any] = json.loads(reply)
    return decoded


async def test_success_is_data_and_context_is_set() -> None:
    headers = {"tl-user-id": "u-1", "tl-roles": "trader,admin", "tl-request-id": "r-1"}
    reply = await call(b'{"symbol": "BTC-USDT", "quantity": 3}', headers)
    assert reply == {"data": {"order_id": "o-3", "by": "u-1", "request_id": "r-1"}}
    assert seen[-1] == CallerContext(user_id="u-1", roles=frozenset({"trader", "admin"}), request_id="r-1")
    assert request_id_var.get() is None  # reset after the request


@pytest.mark.parametrize("data", [b"{not json", b"\xff\xfe", b'{"a": '])
async def test_bad_json_is_bad_request(data: bytes) -> None:
    error = (await call(data))["error"]
    assert error["code"] == "bad_request"
    assert "JSON" in error["message"]


async def test_empty_body_is_validated_as_an_empty_object() -> None:
    error = (await call(b""))["error"]
    assert error["code"] == "validation_error"
    assert {item["field"] for item in error["details"]["fields"]} == {"symbol", "quantity"}


async def test_validation_error_names_the_fields() -> None:
    error = (await call(b'{"symbol": "", "quantity": 0, "extra": true}'))["error"]
    assert error["code"] == "validation_error"
    assert error["message"] == "invalid request"
    fields = {item["field"]: item["message"] for item in error["details"]["fields"]}
    assert set(fields) == {"symbol", "quantity", "extra"}
    assert all(fields.values())


async def test_a_list_body_is_a_validation_error_on_the_body() -> None:
    error = (await call(b"[1, 2]"))["error"]
    assert error["code"] == "validation_error"
    assert [item["field"] for item in error["details"]["fields"]] == ["body"]


@pytest.mark.parametrize(
    ("symbol", "code", "details"),
    [
        ("MISSING", "not_found", {"symbol": "MISSING"}),
        ("DUP", "conflict", {}),
        ("CUSTOM", "risk_rejected", {"limit": "max_position"}),
    ],
)
async def test_service_errors_keep_their_code(symbol: str, code: str, details: dict[str, str]) -> None:
    error = (await call(json.dumps({"symbol": symbol, "quantity": 1}).encode()))["error"]
    assert error["code"] == code
    assert error["details"] == details
    assert error["message"]


async def test_unexpected_exception_is_internal_without_leaking(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="tradeloom.shared.rpc"):
        reply = await call(b'{"symbol": "BOOM", "quantity": 1}', {"tl-request-id": "r-9"})
    error = reply["error"]
    assert error == {"code": "internal", "message": "internal error", "details": {"request_id": "r-9"}}
    assert "hunter2" not in json.dumps(reply)
    assert any("svc.order-router.place" in record.getMessage() for record in caplog.records)  # logged


def test_known_codes_map_to_statuses() -> None:
    assert STATUS_BY_CODE["validation_error"] == 422
    assert STATUS_BY_CODE["bad_request"] == 400
    assert STATUS_BY_CODE["internal"] == 500
    assert NotFound("x").to_reply() == {"error": {"code": "not_found", "message": "x", "details": {}}}
