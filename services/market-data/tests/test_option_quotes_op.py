"""``option_quotes`` through a started market-data (real NATS and Postgres): before a trade of the
underlying there are no quotes (404); after one, every listed option of the expiry is quoted around
the model at the settings' volatility (no 1-minute closes yet), the same as the pure model gives."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

from nats.aio.client import Client

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.option_quotes import OptionSpec, quote
from tradeloom.market_data.domain.sim_options import expiries
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.contracts.market_data import TradeTick
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually


async def test_option_quotes_of_the_synthetic_venue(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    settings = md_settings(md_schema, sim_symbols=["BTC/USDT"], sim_trades_per_s=0, sim_volatility=0.6)
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, subjects)
    expiry = expiries(datetime.now(UTC).date())[1]
    body = {"underlying": "btc/usdt", "expiry": expiry.date().isoformat()}
    try:

        async def listed() -> RemoteError | None:
            try:
                await client.call_raw("market-data", "option_quotes", body, timeout_s=5)
            except RemoteError as error:
                return error if "no trade" in str(error) else None
            return None

        assert (await eventually(listed, "options listed, no trade yet")).code == "not_found"
        trade = TradeTick(
            trade_id="t", ts_ns=time.time_ns(), price=Decimal(64000), amount=Decimal(1), side="buy"
        )
        await MarketPublisher(EventPublisher(nc.jetstream(), subjects, "test"), 25).publish_trades(
            "sim", "BTC/USDT", [trade]
        )

        async def quoted() -> dict | None:
            try:
                return await client.call_raw("market-data", "option_quotes", body, timeout_s=5)
            except RemoteError:
                return None

        reply = await eventually(quoted, "quotes after the first trade")
        assert (reply["underlying"], reply["spot"], reply["realised_volatility"]) == (
            "BTC/USDT",
            "64000",
            0.6,
        )
        assert len(reply["quotes"]) == 13 * 2
        first = reply["quotes"][0]
        spec = OptionSpec(
            first["symbol"], first["option_type"], Decimal(first["strike"]), expiry, Decimal("0.01")
        )
        model = quote(spec, 64000.0, 0.6, datetime.now(UTC), settings.sim_seed)
        assert model is not None and first["model_volatility"] == model.model_volatility
        assert all(Decimal(q["bid"]) < Decimal(q["ask"]) for q in reply["quotes"] if q["bid"] is not None)
        only = await client.call_raw(
            "market-data", "option_quotes", {**body, "symbols": [first["symbol"]]}, timeout_s=5
        )
        assert [q["symbol"] for q in only["quotes"]] == [first["symbol"]]
        try:
            await client.call_raw("market-data", "option_quotes", {"underlying": "BTC-"}, timeout_s=5)
        except RemoteError as error:
            assert error.code == "validation_error" and error.details["fields"][0]["field"] == "underlying"
        else:
            raise AssertionError("a bad underlying was accepted")
        assert date.fromisoformat(first["expiry"][:10]) == expiry.date()
    finally:
        await runtime.stop()
