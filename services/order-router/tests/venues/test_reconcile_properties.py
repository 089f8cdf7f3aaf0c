"""Property test of reconcile(): over generated books and venue answers, applying its actions
follows the order state machine of issue 11, applies every unknown fill of ours exactly once and
never re-sends anything (there is no such action)."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tradeloom.order_router.venues import (
    ApplyFill,
    LocalOrder,
    MarkAccepted,
    MarkVanished,
    UpdateStatus,
    VenueFill,
    VenueOrder,
    VenueView,
    reconcile,
)

# pending_new → new → partially_filled → filled | canceled | rejected | expired (+ pending_cancel)
TRANSITIONS = {
    "pending_new": {"new", "rejected"},
    "new": {"partially_filled", "filled", "pending_cancel", "canceled", "expired"},
    "partially_filled": {"partially_filled", "filled", "pending_cancel", "canceled", "expired"},
    "pending_cancel": {"partially_filled", "filled", "canceled"},
}
QUANTITY = Decimal(4)


@st.composite
def scenario(draw: st.DrawFn) -> tuple[list[LocalOrder], VenueView, set[str]]:
    ours, answers, fills, known = [], {}, [], set()
    for index in range(draw(st.integers(1, 4))):
        client_id, venue_id = f"c{index}", f"v{index}"
        local = draw(st.sampled_from(["pending_new", "new", "partially_filled", "pending_cancel"]))
        known_fills = 0 if local in ("pending_new", "new") else draw(st.integers(1, 2))
        missed = draw(st.integers(0, 4 - known_fills))
        at_venue = known_fills + missed
        if local == "pending_new" and draw(st.booleans()):
            answers[client_id] = None  # never reached the venue
            continue
        open_status = "partially_filled" if at_venue else "new"
        final = "filled" if at_venue == 4 else draw(st.sampled_from([open_status, "canceled", "expired"]))
        if local == "pending_new" and at_venue == 0 and draw(st.booleans()):
            final = "rejected"
        if local == "pending_cancel" and final == "expired":
            final = "canceled"
        answers[client_id] = VenueOrder(
            venue_id, client_id, "BTC/USDT", "buy", "limit", final, QUANTITY, Decimal(at_venue),
            Decimal(100), None, 1,
        )  # fmt: skip
        for number in range(at_venue):
            fill_id = f"{venue_id}-f{number}"
            fills.append(
                VenueFill(
                    fill_id,
                    venue_id,
                    "BTC/USDT",
                    "buy",
                    Decimal(100),
                    Decimal(1),
                    Decimal(0),
                    None,
                    number,
                    None,
                )
            )
            if number < known_fills:
                known.add(fill_id)
        ours.append(
            LocalOrder(
                client_id,
                "BTC/USDT",
                local,
                None if local == "pending_new" else venue_id,
                Decimal(known_fills),
            )
        )
    ours += [LocalOrder(cid, "BTC/USDT", "pending_new") for cid, answer in answers.items() if answer is None]
    fills.append(
        VenueFill("foreign", "v-x", "BTC/USDT", "sell", Decimal(1), Decimal(1), Decimal(0), None, 0, None)
    )
    return ours, VenueView(answers, draw(st.permutations(fills))), known


@settings(max_examples=300, deadline=None)
@given(scenario())
def test_actions_follow_the_state_machine_and_apply_each_fill_once(
    case: tuple[list[LocalOrder], VenueView, set[str]],
) -> None:
    ours, view, known = case
    status = {o.client_order_id: o.status for o in ours}
    filled = {o.client_order_id: o.filled for o in ours}
    applied: list[str] = []

    def move(client_id: str, target: str) -> None:
        assert target in TRANSITIONS[status[client_id]], (status[client_id], target)
        status[client_id] = target

    for action in reconcile(ours, view, known):
        if isinstance(action, MarkAccepted):
            assert view.orders[action.client_order_id] is not None
            if status[action.client_order_id] == "pending_new":
                move(action.client_order_id, "new")
        elif isinstance(action, ApplyFill):
            applied.append(action.fill.venue_fill_id)
            filled[action.client_order_id] += action.fill.quantity
            move(
                action.client_order_id,
                "filled" if filled[action.client_order_id] >= QUANTITY else "partially_filled",
            )
        elif isinstance(action, UpdateStatus):
            move(action.client_order_id, action.status)
        else:
            assert isinstance(action, MarkVanished) and view.orders[action.client_order_id] is None
    ours_fill_ids = {f.venue_fill_id for f in view.fills if f.venue_order_id != "v-x"}
    assert sorted(applied) == sorted(ours_fill_ids - known)
    for order in ours:
        answer = view.orders[order.client_order_id]
        if answer is not None:
            assert status[order.client_order_id] == answer.status or (
                order.status == "pending_cancel" and answer.is_open
            )
