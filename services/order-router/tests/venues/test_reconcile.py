"""reconcile(): accepted-while-down orders found, missed fills applied once, vanished orders marked."""

from decimal import Decimal

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


def venue_order(client_id: str, venue_id: str, status: str = "new", filled: str = "0") -> VenueOrder:
    return VenueOrder(
        venue_id, client_id, "BTC/USDT", "buy", "limit", status, Decimal("1"), Decimal(filled),
        Decimal("100"), None, 1,
    )  # fmt: skip


def fill(fill_id: str, venue_id: str, ts: int, qty: str = "0.5") -> VenueFill:
    return VenueFill(
        fill_id, venue_id, "BTC/USDT", "buy", Decimal("100"), Decimal(qty), Decimal("0"), None, ts, True
    )


def test_pending_order_the_venue_holds_is_marked_accepted_not_resent() -> None:
    found = venue_order("c1", "v1")
    actions = reconcile([LocalOrder("c1", "BTC/USDT", "pending_new")], VenueView({"c1": found}, []), set())
    assert actions == [MarkAccepted("c1", found)]


def test_pending_order_unknown_to_the_venue_never_reached_it() -> None:
    ours = [LocalOrder("c1", "BTC/USDT", "pending_new"), LocalOrder("c2", "BTC/USDT", "new", "v2")]
    actions = reconcile(ours, VenueView({"c1": None, "c2": None}, []), set())
    assert actions == [MarkVanished("c1", never_reached=True), MarkVanished("c2", never_reached=False)]


def test_missed_fills_applied_once_in_time_order_and_their_status_not_repeated() -> None:
    done = venue_order("c1", "v1", status="filled", filled="1")
    view = VenueView({"c1": done}, [fill("f2", "v1", 20), fill("f1", "v1", 10), fill("f1", "v1", 10)])
    actions = reconcile([LocalOrder("c1", "BTC/USDT", "new", "v1")], view, set())
    assert actions == [ApplyFill("c1", fill("f1", "v1", 10)), ApplyFill("c1", fill("f2", "v1", 20))]
    assert reconcile([LocalOrder("c1", "BTC/USDT", "new", "v1")], view, {"f1", "f2"}) == [
        UpdateStatus("c1", "filled", done)
    ]


def test_fills_of_orders_not_ours_are_ignored_and_unasked_orders_left_alone() -> None:
    view = VenueView({"c1": venue_order("c1", "v1")}, [fill("f9", "v-other", 5)])
    ours = [LocalOrder("c1", "BTC/USDT", "new", "v1"), LocalOrder("c3", "BTC/USDT", "new", "v3")]
    assert reconcile(ours, view, set()) == []


def test_pending_cancel_still_open_waits_and_canceled_is_applied() -> None:
    open_order = venue_order("c1", "v1")
    assert (
        reconcile(
            [LocalOrder("c1", "BTC/USDT", "pending_cancel", "v1")], VenueView({"c1": open_order}, []), set()
        )
        == []
    )
    canceled = venue_order("c1", "v1", status="canceled")
    assert reconcile(
        [LocalOrder("c1", "BTC/USDT", "pending_cancel", "v1")], VenueView({"c1": canceled}, []), set()
    ) == [UpdateStatus("c1", "canceled", canceled)]


def test_fill_of_an_order_accepted_while_down_is_matched_by_its_venue_id() -> None:
    found = venue_order("c1", "v7", status="partially_filled", filled="0.5")
    actions = reconcile(
        [LocalOrder("c1", "BTC/USDT", "pending_new")], VenueView({"c1": found}, [fill("f1", "v7", 1)]), set()
    )
    assert actions == [MarkAccepted("c1", found), ApplyFill("c1", fill("f1", "v7", 1))]


def test_amend_by_cancel_replace_relinks_the_new_venue_id_and_keeps_old_fills() -> None:
    replaced = venue_order("c1", "v2", status="partially_filled", filled="0.5")
    view = VenueView({"c1": replaced}, [fill("f1", "v1", 1, "0.2"), fill("f2", "v2", 2, "0.3")])
    actions = reconcile([LocalOrder("c1", "BTC/USDT", "new", "v1")], view, set())
    assert actions == [
        MarkAccepted("c1", replaced),
        ApplyFill("c1", fill("f1", "v1", 1, "0.2")),
        ApplyFill("c1", fill("f2", "v2", 2, "0.3")),
    ]


def test_rejected_while_pending_is_only_marked_rejected() -> None:
    rejected = venue_order("c1", "v1", status="rejected")
    actions = reconcile([LocalOrder("c1", "BTC/USDT", "pending_new")], VenueView({"c1": rejected}, []), set())
    assert actions == [UpdateStatus("c1", "rejected", rejected)]


def test_accepted_while_down_then_canceled_or_expired() -> None:
    for status in ("canceled", "expired", "filled"):
        found = venue_order("c1", "v1", status=status)
        actions = reconcile(
            [LocalOrder("c1", "BTC/USDT", "pending_new")], VenueView({"c1": found}, []), set()
        )
        assert actions == [MarkAccepted("c1", found), UpdateStatus("c1", status, found)]
