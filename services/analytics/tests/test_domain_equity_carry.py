"""The daily-equity fold continued from a carry gives the whole fold's rows figure for figure
(hypothesis: random fills in random chunks, random marks, any start the carry allows), and a
carry survives its JSON round trip digit for digit and in the same order."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.analytics.domain.equity import Carry, Fill, MarkBook, daily_equity, equity_from, fill_key
from tradeloom.analytics.store.carry_store import carry_of, carry_state

DAY0 = date(2026, 3, 1)
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
prices = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999"), places=6)
quantities = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal("50"), places=6)


def _moment(day: int, second: int) -> datetime:
    return datetime(DAY0.year, DAY0.month, DAY0.day, tzinfo=UTC) + timedelta(days=day, seconds=second)


@st.composite
def fills(draw: st.DrawFn) -> list[Fill]:
    count = draw(st.integers(min_value=1, max_value=25))
    out = []
    for n in range(count):
        day = draw(st.integers(min_value=0, max_value=6))
        second = draw(st.sampled_from([0, 1, 3600, 86_399]))  # shared instants: the id breaks ties
        out.append(
            Fill(
                draw(st.sampled_from([f"f{n}", f"F{n}", f"f-{n}"])),
                draw(st.sampled_from(SYMBOLS)),
                draw(st.sampled_from(["buy", "sell"])),
                draw(prices),
                draw(quantities),
                draw(st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=8)),
                _moment(day, second),
            )
        )
    return out


@st.composite
def marks(draw: st.DrawFn) -> MarkBook:
    book: dict[str, list[tuple[date, int, Decimal]]] = {}
    for symbol in SYMBOLS:
        for day in draw(st.sets(st.integers(min_value=0, max_value=8), max_size=6)):
            moment = _moment(day, draw(st.integers(min_value=0, max_value=86_399)))
            ns = int(moment.timestamp()) * 1_000_000_000
            book.setdefault(symbol, []).append((moment.date(), ns, draw(prices)))
    return MarkBook(book)


@settings(max_examples=300, deadline=None)
@given(fills(), marks(), st.lists(st.integers(min_value=1, max_value=25), max_size=4), st.data())
def test_continued_fold_equals_the_whole_fold(
    all_fills: list[Fill], book: MarkBook, cuts: list[int], data: st.DataObject
) -> None:
    last_day = DAY0 + timedelta(days=8)
    ordered = sorted(all_fills, key=fill_key)
    bounds = sorted({min(cut, len(ordered)) for cut in cuts} | {len(ordered)})
    _, carry = equity_from(None, ordered[: bounds[0]], book, last_day)
    for begin, end in itertools.pairwise(bounds):
        assert carry is not None
        chunk = ordered[begin:end]
        first_day = chunk[0].filled_at.date()
        start = carry.day + timedelta(days=data.draw(st.integers(0, (first_day - carry.day).days)))
        shuffled = data.draw(st.permutations(chunk))  # the fold sorts what it is given
        rows, carry = equity_from(carry, shuffled, book, last_day, start)
        so_far = {row.day: row for row in daily_equity(ordered[:end], book, last_day)}
        assert rows[0].day == start
        assert rows == [so_far[row.day] for row in rows]
        assert carry == equity_from(None, ordered[:end], book, last_day)[1]
    whole = {row.day: row for row in daily_equity(all_fills, book, last_day)}
    # with nothing new, rows from any day on or after the carry's still equal the whole fold's
    assert carry is not None
    later = carry.day + timedelta(days=data.draw(st.integers(0, (last_day - carry.day).days)))
    rows, same = equity_from(carry, [], book, last_day, later)
    assert same is carry
    assert rows == [whole[row.day] for row in rows] and rows[0].day == later and rows[-1].day == last_day


@settings(max_examples=100, deadline=None)
@given(fills(), marks())
def test_carry_json_round_trip_is_exact_and_ordered(all_fills: list[Fill], book: MarkBook) -> None:
    _, carry = equity_from(None, all_fills, book, DAY0 + timedelta(days=8))
    assert carry is not None
    back = carry_of(carry.last[0], carry.last[1], carry_state(carry))
    assert back == carry
    assert list(back.quantity.items()) == list(carry.quantity.items())
    assert all(str(back.quantity[s]) == str(q) for s, q in carry.quantity.items())  # digits, not value


def test_refuses_a_start_or_fill_the_carry_cannot_continue() -> None:
    fill = Fill("a", "BTC/USDT", "buy", Decimal(100), Decimal(1), Decimal(0), _moment(2, 10))
    _, carry = equity_from(None, [fill], MarkBook({}), DAY0 + timedelta(days=3))
    assert isinstance(carry, Carry)
    with pytest.raises(ValueError, match="start"):
        equity_from(carry, [], MarkBook({}), DAY0 + timedelta(days=3), DAY0 + timedelta(days=1))
    older = Fill("0", "BTC/USDT", "buy", Decimal(100), Decimal(1), Decimal(0), _moment(2, 10))
    with pytest.raises(ValueError, match="at or before"):
        equity_from(carry, [older], MarkBook({}), DAY0 + timedelta(days=3))
    later = Fill("b", "BTC/USDT", "buy", Decimal(100), Decimal(1), Decimal(0), _moment(3, 10))
    with pytest.raises(ValueError, match="start"):  # rows from the 4th would skip the 3rd's fill
        equity_from(carry, [later], MarkBook({}), DAY0 + timedelta(days=5), DAY0 + timedelta(days=4))
