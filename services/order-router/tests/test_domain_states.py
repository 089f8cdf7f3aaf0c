"""The order state machine: only the declared transitions are possible (hypothesis state machine).

The machine drives one paper order with random transition attempts and random trades through the
real domain functions (``states.transition`` and ``matching.match``) and checks after every step
that the order moved only along declared edges and that its quantities stay consistent.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from tradeloom.order_router.domain import states
from tradeloom.order_router.domain.funds import AccountCosts
from tradeloom.order_router.domain.matching import PaperOrder, Trade, match

COSTS = AccountCosts(maker_rate=Decimal("0.001"), taker_rate=Decimal("0.002"))
LOT = Decimal("0.1")
EDGES = {(a, b) for a, targets in states.TRANSITIONS.items() for b in targets}


class OrderLife(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.order = PaperOrder(
            side="buy", type="limit", status=states.PENDING_NEW, quantity=Decimal(1),
            filled_quantity=Decimal(0), locked=Decimal(1000), time_in_force="gtc", accepted_ns=0,
            price=Decimal(100),
        )  # fmt: skip
        self.visited = [states.PENDING_NEW]
        self.clock = 1

    @rule(wanted=st.sampled_from(sorted(states.STATUSES)))
    def attempt(self, wanted: str) -> None:
        current, target = self.order.status, wanted
        if (current, target) in EDGES:
            moved = states.transition(current, target)
            if target not in (states.FILLED, states.PARTIALLY_FILLED):  # those come with a fill (trade)
                self.order = replace(self.order, status=moved)
                self.visited.append(target)
        else:
            with pytest.raises(states.IllegalTransition):
                states.transition(current, target)

    @rule(
        price=st.integers(min_value=95, max_value=105),
        amount=st.sampled_from([Decimal("0.1"), Decimal("0.3"), Decimal("2")]),
        tif=st.sampled_from(["gtc", "ioc", "fok"]),
    )
    def trade(self, price: int, amount: Decimal, tif: str) -> None:
        self.clock += 1
        before = self.order.status
        outcome = match(
            replace(self.order, time_in_force=tif), Trade(Decimal(price), amount, self.clock), COSTS, LOT
        )
        if outcome is None:
            return
        previous = before
        for status in outcome.statuses:
            assert (previous, status) in EDGES
            previous = status
        self.order = replace(outcome.order, time_in_force=self.order.time_in_force)
        self.visited.extend(outcome.statuses)

    @invariant()
    def only_declared_edges(self) -> None:
        for a, b in zip(self.visited, self.visited[1:], strict=False):
            assert (a, b) in EDGES, (a, b)

    @invariant()
    def quantities_agree_with_status(self) -> None:
        order = self.order
        assert Decimal(0) <= order.filled_quantity <= order.quantity
        assert order.locked >= 0
        if order.status == states.FILLED:
            assert order.filled_quantity == order.quantity
        if order.status in (states.PENDING_NEW, states.NEW):
            assert order.filled_quantity == 0
        if order.status == states.PARTIALLY_FILLED:
            assert 0 < order.filled_quantity < order.quantity

    @invariant()
    def terminal_is_final(self) -> None:
        if self.order.status in states.TERMINAL:
            assert not states.TRANSITIONS[self.order.status]


OrderLife.TestCase.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)
TestOrderLife = OrderLife.TestCase


def test_terminal_statuses_have_no_way_out() -> None:
    for status in states.TERMINAL:
        for target in states.STATUSES:
            assert not states.can_transition(status, target)
    assert not states.can_transition(states.PENDING_NEW, states.FILLED)
    assert not states.can_transition(states.NEW, states.NEW)
