"""The Greeks pre-trade check through a real order-router (real NATS and Postgres, both services
in-process): an option order under ``max_net_delta`` is accepted and filled, one over it rejected
with the limit named.

market-data is a stand-in whose ``option_quotes`` answers only after 0.3 s, while the router
waits 0.15 s for the check (the default is 50 ms; 0.15 s only absorbs a loaded test box): a check
that asked for quotes on the way could never answer in time, so passing shows that it reads
risk-monitor's quote book, refreshed in the background. Quotes as in ``test_option_limits.py``
(S = K = 100, one year, mid 7.965567): 2 calls have delta 1.079656, a third makes 1.619484.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from rm_harness import RiskCaller
from test_option_limits import CALL, PUT, quote
from test_with_order_router import BTC, orders

from tradeloom.order_router import app as router_app
from tradeloom.order_router.settings import OrderRouterSettings
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.schemas import migrate_service

QUOTE_DELAY_S = 0.3
WARMING_UP = "risk_check_unavailable"  # the first check right after start may miss the deadline
OPTION = Instrument(venue="sim", symbol=CALL, kind="option", base="BTC", quote="USDT", settle="USDT",
                    tick_size=Decimal("0.000001"), lot_size=Decimal("0.01"), min_notional=Decimal(0),
                    underlying="BTC", strike=Decimal(100), option_type="call")  # fmt: skip


@pytest.fixture
async def slow_market_data(nc: Client, streams: Subjects) -> AsyncIterator[list[dict[str, Any]]]:
    """Instruments at once; option quotes after ``QUOTE_DELAY_S`` (each answered in its own task)."""
    asked: list[dict[str, Any]] = []
    tasks: set[asyncio.Task[None]] = set()

    async def instruments(msg: Msg) -> None:
        listed = [i.model_dump(mode="json") for i in (BTC, OPTION)]
        await msg.respond(json.dumps({"data": {"instruments": listed}}).encode())

    async def late(msg: Msg) -> None:
        body = json.loads(msg.data)
        asked.append(body)
        await asyncio.sleep(QUOTE_DELAY_S)
        reply = {"venue": "sim", "underlying": body["underlying"], "spot": "100", "spot_ts_ns": 1,
                 "realised_volatility": 0.2,
                 "quotes": [quote(s) for s in body.get("symbols") or (CALL, PUT)]}  # fmt: skip
        await msg.respond(json.dumps({"data": reply}).encode())

    async def option_quotes(msg: Msg) -> None:
        task = asyncio.create_task(late(msg))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    subs = [
        await nc.subscribe(streams.request("market-data", "instruments"), cb=instruments),
        await nc.subscribe(streams.request("market-data", "option_quotes"), cb=option_quotes),
    ]
    try:
        yield asked
    finally:
        for sub in subs:
            await sub.unsubscribe()


@pytest.fixture
async def option_router(
    pg_server: Any, database_url: str, nats_url: str, nats_prefix: str, slow_market_data: list[Any]
) -> AsyncIterator[None]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg_server.execute(f'CREATE SCHEMA "{schema}"')
    await migrate_service(router_app, database_url, schema)
    settings = OrderRouterSettings(
        database_url=database_url, nats_url=nats_url, nats_prefix=nats_prefix, db_schema=schema,
        environment="test", health_port=free_port(), risk_check_timeout_s=0.15,
    )  # fmt: skip
    runtime = router_app.build(settings)
    await runtime.start()
    try:
        yield
    finally:
        await runtime.stop()
        pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def buy(account: str, quantity: str) -> dict[str, Any]:
    return {"account_id": account, "symbol": CALL, "side": "buy", "type": "market", "quantity": quantity}


async def test_an_option_order_through_the_router_is_allowed_under_the_delta_limit_and_refused_over_it(
    risk: RiskCaller, option_router: None
) -> None:
    account = (await orders(risk, "accounts_create", {"name": "options"}))["account_id"]
    await risk("limits_put", {"account_id": account, "max_net_delta": "1.5"})

    async def accepted() -> dict[str, Any] | None:
        """The first checks find no quotes of BTC/USDT yet (refused as stale, the book then wants
        them; or, the services just started, not answered in time); once the book has the chain,
        the entry is valued and passes."""
        reply = await orders(risk, "orders_submit", buy(account, "2"))
        if reply["status"] == "rejected":
            reason = reply["reject_reason"]
            assert reason.startswith("risk_rejected: option_quotes_stale: ") or reason == WARMING_UP, reply
            return None
        return reply

    bought = await eventually(accepted, timeout=60)
    assert bought["status"] == "filled"

    async def folded() -> bool:
        items = (await risk("positions_list", {"account_id": account}))["items"]
        return any(i["symbol"] == CALL and Decimal(i["quantity"]) == 2 for i in items)

    await eventually(folded)

    async def answered() -> dict[str, Any] | None:  # a loaded box may miss a deadline: ask again
        reply = await orders(risk, "orders_submit", buy(account, "1"))
        return None if reply["reject_reason"] == WARMING_UP else reply

    over = await eventually(answered, timeout=60)
    assert (over["status"], over["reject_reason"]) == (
        "rejected",
        "risk_rejected: max_net_delta_exceeded: net 1.6195 > 1.5",
    )
