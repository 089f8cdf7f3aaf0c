"""A flatten closes every kind of position of a paper account, once, and reports the dust it
cannot close (real NATS and Postgres, the service in-process; stand-ins for market-data's option
quotes and risk-monitor's leverage).

The account starts with 10,000 USDT and 1 BTC. It sells 0.4 BTC (a spot short against its
starting balance), buys 0.06 ETH at 100 (ETH then trades at 50: 0.06 × 50 = 3 USDT, under the
5 USDT minimum notional), shorts 3 perpetual contracts and buys 0.1 call at the ask. The flatten:
buys back 0.4 BTC, buys 3 contracts reduce-only, sells the call at the bid at once, and leaves the
ETH, reported as ``below_min_notional`` in ``flatten_completed`` (outcome ``partial``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from nats.aio.client import Client
from or_harness import Caller, Neighbours
from sqlalchemy.ext.asyncio import AsyncEngine
from test_flatten import _closes, _completed, _priced, publish_flatten
from test_option_orders import CALL, quotes
from test_orders_flow import balances, open_account, priced, wait_status
from test_perp_orders import PERP, leverage_10, perp_priced, position

from tradeloom.order_router.flatten import close_client_id
from tradeloom.shared.contracts.orders import FlattenLeft
from tradeloom.shared.testing.polling import eventually

D = Decimal
__all__ = ["leverage_10", "quotes"]  # fixtures, used by name


async def submit(alice: Caller, account_id: str, symbol: str, side: str, quantity: str) -> dict[str, Any]:
    body = {"account_id": account_id, "symbol": symbol, "side": side, "type": "market", "quantity": quantity}
    return await alice("orders_submit", body)


async def test_a_flatten_closes_spot_shorts_perps_and_options_and_reports_dust(
    alice: Caller,
    neighbours: Neighbours,
    db_engine: AsyncEngine,
    or_schema: str,
    nc: Client,
    leverage_10: None,
    quotes: dict[str, Any],
) -> None:
    balances_in = [{"asset": "USDT", "amount": "10000"}, {"asset": "BTC", "amount": "1"}]
    account_id = await open_account(alice, balances=balances_in)
    await priced(neighbours, db_engine, or_schema, "100")
    await perp_priced(neighbours, db_engine, or_schema, "100")
    await neighbours.trade("100", "0.01", symbol="ETH/USDT")
    await eventually(lambda: _priced(db_engine, or_schema, "ETH/USDT"))
    orders = [
        await submit(alice, account_id, "BTC/USDT", "sell", "0.4"),
        await submit(alice, account_id, "ETH/USDT", "buy", "0.06"),
        await submit(alice, account_id, PERP, "sell", "3"),
        await submit(alice, account_id, CALL, "buy", "0.1"),
    ]
    await neighbours.trade("100", "10")
    await neighbours.trade("100", "10", symbol="ETH/USDT")
    await neighbours.trade("100", "10", symbol=PERP)
    for order in orders:
        await wait_status(alice, order["order_id"], "filled")
    await neighbours.trade("50", "0.01", symbol="ETH/USDT")  # the ETH held is now dust
    await eventually(lambda: _eth_at_50(db_engine, or_schema))

    flatten = await publish_flatten(neighbours, "alice", account_id)
    closes = await eventually(lambda: _closes(db_engine, or_schema, flatten.id, 3))
    assert {(c.symbol, c.client_order_id, c.side, c.reduce_only, c.quantity) for c in closes} == {
        ("BTC/USDT", close_client_id(flatten.id, "BTC/USDT"), "buy", False, D("0.4")),
        (PERP, close_client_id(flatten.id, PERP), "buy", True, D(3)),
        (CALL, close_client_id(flatten.id, CALL), "sell", True, D("0.1")),
    }
    await neighbours.trade("100", "10")
    await neighbours.trade("100", "10", symbol=PERP)
    done = await eventually(lambda: _completed(nc, neighbours.subjects, account_id))
    assert done.flatten_id == flatten.id and done.outcome == "partial"
    assert {(o.symbol, o.status, o.filled_quantity) for o in done.orders} == {
        ("BTC/USDT", "filled", D("0.4")),
        (PERP, "filled", D(3)),
        (CALL, "filled", D("0.1")),
    }
    assert done.left == [FlattenLeft(symbol="ETH/USDT", quantity=D("0.06"), reason="below_min_notional")]
    held = await balances(alice, account_id)
    assert held["BTC"] == (D(1), D(0)) and held.get(CALL, (D(0), D(0))) == (D(0), D(0))
    assert held["ETH"] == (D("0.06"), D(0))
    assert held["USDT"][1] == 0  # every lock released
    assert (await position(db_engine, or_schema, account_id) or (D(0),))[0] == 0


async def _eth_at_50(engine: AsyncEngine, schema: str) -> bool:
    from test_flatten import rows

    found = await rows(engine, f'SELECT price FROM "{schema}".last_prices WHERE symbol = :s', s="ETH/USDT")
    return bool(found) and D(found[0].price) == D(50)
