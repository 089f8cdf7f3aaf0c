"""A batch's account views read in one statement (``SubmitReads.views``, issue 13): each the same
view one order's submit reads, an account not the caller's answered as not found, and the batch's
results those of the orders submitted one by one."""

from __future__ import annotations

import uuid
from typing import Any

from or_harness import Caller, Neighbours
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import open_account
from test_submit_batch import limit_buy

from tradeloom.order_router.store.submit_reads import SubmitReads, autocommit
from tradeloom.shared.contracts.orders_batch import OrderSubmitBatchReply


def same(a: Any, b: Any) -> bool:
    """Two views alike (the batch's row carries its ordinal as well)."""
    if a is None or b is None:
        return a is b
    fields = ("halted", "existing", "last_price", "free")
    return all(getattr(a, f) == getattr(b, f) for f in fields) and a.account.id == b.account.id


async def test_the_views_of_a_batch_are_each_orders_own_view(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    mine, other = await open_account(alice), await open_account(alice, name="paper 2")
    bobs = await open_account(alice.as_user("bob"))
    taken = await alice("orders_submit", limit_buy(mine, "v-taken", "1"))  # an earlier submission
    assert taken["status"] == "new"
    wanted = [
        (uuid.UUID(mine), "v-taken", None, "BTC/USDT"),
        (uuid.UUID(mine), "v-new", "key-1", "BTC/USDT"),
        (uuid.UUID(other), "v-other", None, "ETH/USDT"),
        (uuid.UUID(bobs), "v-bob", None, "BTC/USDT"),  # not alice's: no view
    ]
    reads = SubmitReads(or_schema)
    async with autocommit(db_engine) as conn:
        batch = await reads.views(conn, "alice", wanted)
        for account, cid, key, symbol in wanted:
            one = await reads.view(conn, account, "alice", cid=cid, key=key, symbol=symbol)
            assert same(batch[(account, "alice", cid, key, symbol)], one)
            with reads.prefetched(batch):  # answered from memory: the same
                again = await reads.view(conn, account, "alice", cid=cid, key=key, symbol=symbol)
                assert again is batch[(account, "alice", cid, key, symbol)]
    assert batch[(uuid.UUID(mine), "alice", "v-taken", None, "BTC/USDT")].existing  # type: ignore[union-attr]
    assert batch[(uuid.UUID(bobs), "alice", "v-bob", None, "BTC/USDT")] is None


async def test_a_batch_over_accounts_with_another_users_and_an_unnamed_order(alice: Caller) -> None:
    mine, other = await open_account(alice), await open_account(alice, name="paper 2")
    bobs = await open_account(alice.as_user("bob"))
    unnamed = {k: v for k, v in limit_buy(other, "", "1").items() if k != "client_order_id"}
    body = {"orders": [limit_buy(mine, "m-1", "1"), limit_buy(bobs, "m-2", "1"), unnamed]}
    reply = OrderSubmitBatchReply.model_validate(await alice("orders_submit_batch", body))
    first, bobs_order, fresh = reply.results
    assert first.order is not None and first.order.status == "new" and first.order.account_id == mine
    assert bobs_order.error is not None and bobs_order.error.code == "not_found"  # as for one order
    assert fresh.order is not None and fresh.order.status == "new" and fresh.order.account_id == other
    assert fresh.order.client_order_id.startswith("tl-")  # its view read on its own
