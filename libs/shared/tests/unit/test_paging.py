"""The keyset page rule every service's list op shares."""

from __future__ import annotations

import uuid

import pytest

from tradeloom.shared.errors import ValidationFailed
from tradeloom.shared.paging import fetch_size, page_of, uuid_cursor


def test_a_full_page_with_one_more_row_has_a_cursor_at_its_last_item() -> None:
    rows = list(range(fetch_size(3)))  # the store gave 4 rows for a page of 3
    items, cursor = page_of(rows, 3, lambda n: n * 10, str)
    assert items == [0, 10, 20]
    assert cursor == "20"


@pytest.mark.parametrize("count", [0, 1, 3])
def test_the_last_page_has_no_cursor(count: int) -> None:
    items, cursor = page_of(list(range(count)), 3, lambda n: n, str)
    assert items == list(range(count))
    assert cursor is None


def test_a_uuid_cursor_round_trips_and_anything_else_names_the_field() -> None:
    key = uuid.uuid4()
    assert uuid_cursor(None) is None
    assert uuid_cursor(str(key)) == key
    with pytest.raises(ValidationFailed) as caught:
        uuid_cursor("2024-01-01", field="before")
    assert caught.value.details["fields"][0]["field"] == "before"
    assert caught.value.message.startswith("before: not a cursor")
