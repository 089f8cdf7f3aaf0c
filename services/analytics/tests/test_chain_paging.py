"""A chain reply holds at most a page of strikes (NATS's 1 MB max_payload): the page's cut."""

from __future__ import annotations

from typing import Any

from tradeloom.analytics.api_chain import _page, _wire


def options(strikes: list[int]) -> list[dict[str, Any]]:
    return [{"strike": str(k), "option_type": t} for k in strikes for t in ("call", "put")]


def test_a_range_within_the_page_is_whole() -> None:
    listed = options([100, 110, 120])
    assert _page(listed, 3) == (listed, None)


def test_more_strikes_than_a_page_end_before_the_next_strike() -> None:
    listed = options([100, 110, 120, 130])[:-1]  # the limit cut the last strike's put
    kept, next_from = _page(listed, 2)
    assert [o["strike"] for o in kept] == ["100", "100", "110", "110"] and next_from == 120.0


def test_strikes_travel_as_plain_decimal_strings() -> None:
    assert (_wire(60000.0), _wire(0.5), _wire(None)) == ("60000", "0.5", None)
