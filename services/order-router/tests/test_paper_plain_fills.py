"""A batch's plain fills written together (``paper_fills.PlainFills``) leave exactly what the
per-order path (``Ledger.record_fill`` + ``Ledger.move`` for each fill) leaves: the same orders,
fills and balances, and the same events in the same order; a trade seen again fills nothing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
from or_harness import Caller, Neighbours
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from test_orders_flow import open_account, priced
from test_paper_batch import batch

from tradeloom.order_router import paper
from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.paper import PaperMatcher
from tradeloom.order_router.paper_fills import as_stored
from tradeloom.shared.envelope import Envelope, Event
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.subjects import Subjects

D = Decimal
TRADES = ([("99", "0.1")], [("96", "1"), ("95", "0.4")], [("94.5", "5")], [("94.4", "0.3")])
ORDERS = (  # (client id, type, price, quantity): two fill across messages, one stays open, one never fills
    ("market", "market", None, "0.2"),
    ("limit-95", "limit", "95", "1"),
    ("limit-94.5", "limit", "94.5", "7"),
    ("limit-80", "limit", "80", "1"),
)


UNCOMPARED = frozenset({"fill_id", "account_id", "updated_at", "created_at", "filled_at"})


class RecordingOutbox(Outbox):
    """The outbox, keeping every envelope it writes (the relay may publish and delete the rows)."""

    def __init__(self, schema: str) -> None:
        super().__init__(schema, Subjects("t"), "tests")
        self.written: list[Envelope] = []

    async def add_many(
        self, connection: AsyncConnection, items: Sequence[tuple[Event, Sequence[str], dict[str, Any]]]
    ) -> list[Envelope]:
        envelopes = await super().add_many(connection, items)
        self.written.extend(envelopes)
        return envelopes


async def run_once(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, schema: str
) -> tuple[dict[str, Any], str]:
    """One account's orders, the batch applied as the consumer applies it; what it left."""
    await priced(neighbours, db_engine, schema, "100")
    account = await open_account(alice, maker_fee_rate="0.001", taker_fee_rate="0.0025",
                                 slippage_model="percent", slippage="0.0007")  # fmt: skip
    ids = {}
    for client_id, kind, price, quantity in ORDERS:
        body = {"account_id": account, "symbol": "BTC/USDT", "side": "buy", "type": kind,
                "quantity": quantity, "client_order_id": client_id}  # fmt: skip
        placed = await alice("orders_submit", body if price is None else {**body, "price": price})
        ids[placed["order_id"]] = client_id
    outbox = RecordingOutbox(schema)
    matcher = PaperMatcher(Ledger(schema, outbox), schema)
    async with db_engine.begin() as conn:
        await matcher.on_trades(conn, batch(*TRADES))
    return await left(db_engine, schema, account, ids, outbox.written), account


async def left(
    db_engine: AsyncEngine, schema: str, account: str, ids: dict[str, str], events: list[Envelope]
) -> dict[str, Any]:
    """The account's orders, fills, balances and the events written, with ids and times left out."""
    skip = {"id", "account_id", "user_id", "created_at", "updated_at", "accepted_ns", "traceparent"}
    where = f'FROM "{schema}".{{}} WHERE account_id = :a ORDER BY {{}}'
    async with db_engine.connect() as conn:

        async def rows(table: str, columns: str, order: str) -> list[Any]:
            result = await conn.execute(
                text(f"SELECT {columns} " + where.format(table, order)), {"a": account}
            )
            return list(result.mappings().all())

        orders = await rows("orders", "*", "client_order_id")
        fills = await rows("fills", "*", "id")
        money = await rows("balances", "asset, free, locked", "asset")
    fill_rows = sorted(
        (ids.get(str(f["order_id"])), f["trade_id"], f["price"], f["quantity"], f["fee"], f["liquidity"])
        for f in fills
    )
    return {
        "orders": [{k: v for k, v in o.items() if k not in skip} for o in orders],
        "fills": fill_rows,
        "balances": [(m["asset"], m["free"], m["locked"]) for m in money],
        "events": [without_ids(e.type, e.data, ids) for e in events],
    }


def without_ids(kind: str, data: dict[str, Any], ids: dict[str, str]) -> tuple[str, Any]:
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in UNCOMPARED}
        if isinstance(value, str) and value in ids:
            return ids[value]
        if isinstance(value, str) and value.startswith("paper:"):
            return "paper:" + ids[value.split(":")[1]] + ":" + value.split(":")[2]
        return value

    return kind, clean(data)


async def test_the_batched_fills_leave_what_the_per_order_path_leaves(
    alice: Caller,
    neighbours: Neighbours,
    db_engine: AsyncEngine,
    or_schema: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batched, account = await run_once(alice, neighbours, db_engine, or_schema)
    await alice("orders_cancel_all", {"account_id": account})  # nothing of this account rests now
    monkeypatch.setattr(paper, "is_plain", lambda row: False)  # every order on the per-order path
    one_by_one, _ = await run_once(alice, neighbours, db_engine, or_schema)

    assert batched == one_by_one
    statuses = {o["client_order_id"]: o["status"] for o in batched["orders"]}
    assert statuses == {"market": "filled", "limit-95": "filled", "limit-94.5": "partially_filled",
                        "limit-80": "new"}  # fmt: skip
    kinds = [kind.split(".")[2] for kind, _ in batched["events"]]
    assert kinds.count("fill") == len(batched["fills"]) == 6  # market 2, limit-95 2, limit-94.5 2
    assert kinds.count("order_updated") == 6  # each fill shows its order (partially filled, then filled)


async def test_a_batch_seen_again_fills_nothing_more(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    first, account = await run_once(alice, neighbours, db_engine, or_schema)
    outbox = RecordingOutbox(or_schema)
    matcher = PaperMatcher(Ledger(or_schema, outbox), or_schema)
    async with db_engine.begin() as conn:  # the same trades again (a redelivery the inbox let through)
        await matcher.on_trades(conn, batch(*TRADES))
    assert outbox.written == []
    again = await left(db_engine, or_schema, account, {}, [])
    assert again["balances"] == first["balances"]
    assert [o["filled_quantity"] for o in again["orders"]] == [o["filled_quantity"] for o in first["orders"]]


def test_a_number_is_rounded_as_its_numeric_38_18_column_stores_it() -> None:
    """18 places, a tie away from zero, up to 20 digits before the point (past Decimal's default
    28-digit context, where quantize would raise)."""
    assert as_stored(D("12345678901234567890.1234567890123456785")) == D(
        "12345678901234567890.123456789012345679"
    )
    assert as_stored(D("0.0000000000000000005")) == D("1e-18")
    assert as_stored(None) is None
    assert as_stored("filled") == "filled"
