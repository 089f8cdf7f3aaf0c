"""``rpc_deadline``: when a request counts as abandoned by its caller."""

from __future__ import annotations

import time

from tradeloom.shared.rpc_deadline import HEADER_DEADLINE, DroppedRequests, abandoned, deadline_header


def test_a_request_is_abandoned_only_past_its_deadline_and_the_grace() -> None:
    past = {HEADER_DEADLINE: f"{time.time() - 2:.3f}"}
    assert abandoned(past, grace_s=1.0)
    assert not abandoned(past, grace_s=5.0)  # clocks may run apart: within the grace it is worked
    assert not abandoned({HEADER_DEADLINE: deadline_header(2.0)}, grace_s=0.0)


def test_a_request_without_a_readable_deadline_is_never_dropped() -> None:
    assert not abandoned(None, grace_s=0.0)
    assert not abandoned({}, grace_s=0.0)  # an older client
    assert not abandoned({HEADER_DEADLINE: "soon"}, grace_s=0.0)


def test_dropped_requests_are_counted_and_logged_at_most_every_period(caplog: object) -> None:
    dropped = DroppedRequests(every_s=60)
    for _ in range(5):
        dropped.note("order-router", "orders_submit")
    assert dropped.count == 5
    records = [r for r in caplog.records if "past their caller's deadline" in r.getMessage()]  # type: ignore[attr-defined]
    assert len(records) == 1  # the first drop is logged; the next four wait for the period
