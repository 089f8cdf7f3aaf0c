"""``rpc_deadline``: when a request counts as abandoned by its caller."""

from __future__ import annotations

import json

import pytest

from tradeloom.shared.rpc_deadline import HEADER_TIMEOUT, DroppedRequests, abandoned, overloaded_reply


def test_a_request_is_abandoned_only_once_it_waited_longer_than_its_caller() -> None:
    headers = {HEADER_TIMEOUT: "0.050"}
    assert abandoned(headers, waited_s=0.051)
    assert not abandoned(headers, waited_s=0.049)


def test_a_request_without_a_readable_timeout_is_never_dropped() -> None:
    assert not abandoned(None, waited_s=100)
    assert not abandoned({}, waited_s=100)  # an older client
    assert not abandoned({HEADER_TIMEOUT: "soon"}, waited_s=100)


def test_the_overloaded_answer_is_a_503_error_reply() -> None:
    error = json.loads(overloaded_reply("order-router", "orders_submit", 1024))["error"]
    assert error["code"] == "unavailable" and "overloaded" in error["message"]


def test_dropped_requests_are_counted_and_logged_at_most_every_period(
    caplog: pytest.LogCaptureFixture,
) -> None:
    dropped = DroppedRequests(every_s=60)
    for _ in range(5):
        dropped.note("order-router", "orders_submit")
    assert dropped.count == 5
    records = [r for r in caplog.records if "past their caller's wait" in r.getMessage()]
    assert len(records) == 1  # the first drop is logged; the next four wait for the period
