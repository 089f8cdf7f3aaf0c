"""The paper exchange's probe: a batch of trades on symbols no paper order rests on only moves
their last prices, stored in one statement without a transaction or inbox claim; any other batch
goes to ``on_trades`` in its transaction."""

from __future__ import annotations

from decimal import Decimal

from or_harness import Caller, Neighbours, eventually
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from test_orders_flow import open_account, priced, status_of
from test_paper_batch import batch

from tradeloom.order_router.ledger import Ledger
from tradeloom.order_router.paper import PaperMatcher
from tradeloom.order_router.perp_liquidation import PerpLiquidator
from tradeloom.shared.contracts.market_data import TradesIngested, TradeTick
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.outbox import Outbox
from tradeloom.shared.subjects import Subjects

D = Decimal


def matcher(schema: str) -> PaperMatcher:
    ledger = Ledger(schema, Outbox(schema, Subjects("t"), "tests"))
    return PaperMatcher(ledger, schema, PerpLiquidator(ledger, schema, {}))


async def last_price(engine: AsyncEngine, schema: str, symbol: str = "BTC/USDT") -> Decimal | None:
    async with engine.connect() as conn:
        value = (
            await conn.execute(
                text(f'SELECT price FROM "{schema}".last_prices WHERE symbol = :s'), {"s": symbol}
            )
        ).scalar_one_or_none()
    return None if value is None else D(value)


async def probe(engine: AsyncEngine, paper: PaperMatcher, envelopes: list[Envelope]) -> bool:
    async with engine.connect() as conn:
        autocommit = await conn.execution_options(isolation_level="AUTOCOMMIT")
        return await paper.without_orders(autocommit, envelopes)


async def test_a_batch_nobody_has_an_order_on_only_moves_the_last_price_and_never_back(
    db_engine: AsyncEngine, or_schema: str
) -> None:
    paper = matcher(or_schema)
    older, newer = batch([("99", "1")]), batch([("101", "1")])  # stamped in this order
    assert await probe(db_engine, paper, newer)
    assert await last_price(db_engine, or_schema) == D(101)
    assert await probe(db_engine, paper, older)  # a redelivered or late batch: taken, changes nothing
    assert await last_price(db_engine, or_schema) == D(101)
    assert await probe(db_engine, paper, newer)  # the same batch again: the same price
    assert await last_price(db_engine, or_schema) == D(101)


async def test_a_resting_order_a_perpetual_or_a_foreign_message_go_to_the_transaction(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:
    paper = matcher(or_schema)
    perp_tick = TradeTick.model_validate(
        {"trade_id": "p1", "ts_ns": 1, "price": "100", "amount": "1", "side": "buy"}
    )
    perp = [Envelope.wrap(TradesIngested(venue="sim", symbol="BTC/USDT:USDT", trades=[perp_tick]),
                          source="tradeloom/market-data")]  # fmt: skip
    assert not await probe(db_engine, paper, perp)  # its positions may have to be liquidated
    foreign = [Envelope.wrap(TradesIngested(venue="sim", symbol="BTC/USDT", trades=[perp_tick]), source="x")]
    foreign[0] = foreign[0].model_copy(update={"type": "tradeloom.orders.other.v1"})
    assert not await probe(db_engine, paper, foreign)

    account_id = await open_account(alice)
    await priced(neighbours, db_engine, or_schema, "100")
    base = {"account_id": account_id, "symbol": "BTC/USDT", "side": "buy", "quantity": "0.1"}
    resting = await alice("orders_submit", {**base, "type": "limit", "price": "90"})
    assert not await probe(db_engine, paper, batch([("100.5", "1")]))  # an order rests there
    assert await last_price(db_engine, or_schema) == D("100.5")  # stored anyway: idempotent

    # through the real consumer: the order rests, so the trade that reaches it fills it
    await neighbours.trade("89", "1")
    await eventually(lambda: _filled(alice, resting["order_id"]))


async def _filled(alice: Caller, order_id: str) -> bool:
    return (await status_of(alice, order_id))["status"] == "filled"


async def test_through_the_consumer_trades_on_an_idle_market_leave_no_inbox_rows(
    alice: Caller, neighbours: Neighbours, db_engine: AsyncEngine, or_schema: str
) -> None:  # (alice: the router runs)
    for price in ("100", "101", "102"):
        await priced(neighbours, db_engine, or_schema, price)
    async with db_engine.connect() as conn:
        claims = (
            await conn.execute(
                text(f"SELECT count(*) FROM \"{or_schema}\".inbox WHERE consumer = 'order_router_paper'")
            )
        ).scalar_one()
    assert claims == 0  # each batch was taken by the probe
