"""``option_chain_quotes`` through a started market-data (real NATS and Postgres): the listing of
``instruments`` with the quotes of ``option_quotes`` as columns (null quotes before a trade), the
strike range and limit, an unknown underlying or expiry 404 like ``option_quotes``, bad input 422
naming the field; ``option_chain_quotes_f64`` the same listing with its numbers binary; a change of
the registry (an option delisted, one listed, one listed again) shows in the next reply of both ops
although the listing is kept between requests."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from nats.aio.client import Client
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.sim_options import expiries
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.market_data.store.instruments_store import upsert_instruments
from tradeloom.shared.contracts.market_data import Instrument, TradeTick
from tradeloom.shared.contracts.market_data_chain_quotes import (
    OptionChainQuotesF64Reply,
    OptionChainQuotesReply,
)
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually


async def test_option_chain_quotes_of_the_synthetic_venue(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str,
    db_engine: AsyncEngine,
) -> None:  # fmt: skip
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    settings = md_settings(md_schema, sim_symbols=["BTC/USDT"], sim_trades_per_s=0, sim_volatility=0.6)
    runtime = build(settings)
    await runtime.start()
    client = ServiceClient(nc, subjects)
    expiry = expiries(datetime.now(UTC).date())[1]
    body = {"underlying": "btc/usdt", "expiry": expiry.date().isoformat()}

    async def ask(**extra: Any) -> dict[str, Any]:
        return await client.call_raw("market-data", "option_chain_quotes", {**body, **extra}, timeout_s=5)

    try:

        async def listed() -> dict[str, Any] | None:
            try:
                return await ask()
            except RemoteError:
                return None

        before = await eventually(listed, "options listed")
        assert (before["spot"], before["realised_volatility"], before["venue_quotes"]) == (None, None, False)
        assert len(before["symbol"]) == 13 * 2 and set(before["bid"]) == set(before["ask"]) == {None}
        trade = TradeTick(
            trade_id="t", ts_ns=time.time_ns(), price=Decimal(64000), amount=Decimal(1), side="buy"
        )
        await MarketPublisher(EventPublisher(nc.jetstream(), subjects, "test"), 25).publish_trades(
            "sim", "BTC/USDT", [trade]
        )

        async def quoted() -> dict[str, Any] | None:
            reply = await ask()
            return reply if reply["spot"] is not None else None

        reply = await eventually(quoted, "quotes after the first trade")
        OptionChainQuotesReply.model_validate(reply)
        assert (reply["underlying"], reply["spot"], reply["realised_volatility"]) == (
            "BTC/USDT",
            "64000",
            0.6,
        )
        instruments = await client.call_raw(
            "market-data", "instruments",
            {"kind": "option", "status": "active", "underlying": "BTC/USDT", "expiry": body["expiry"],
             "limit": 100},
            timeout_s=5,
        )  # fmt: skip
        assert reply["symbol"] == [i["symbol"] for i in instruments["instruments"]]
        assert reply["strike"] == [i["strike"] for i in instruments["instruments"]]
        assert reply["option_type"] == [i["option_type"] for i in instruments["instruments"]]
        old = await client.call_raw("market-data", "option_quotes", body, timeout_s=5)
        by_symbol = {q["symbol"]: q for q in old["quotes"]}
        assert reply["model_volatility"] == [by_symbol[s]["model_volatility"] for s in reply["symbol"]]
        for bid, ask_ in zip(reply["bid"], reply["ask"], strict=True):
            assert ask_ is not None and (bid is None or Decimal(bid) < Decimal(ask_))

        packed = await client.call_raw("market-data", "option_chain_quotes_f64", body, timeout_s=5)
        OptionChainQuotesF64Reply.model_validate(packed)  # the same listing, its numbers binary

        def column(name: str, dtype: str) -> list[float]:
            return np.frombuffer(base64.b64decode(packed[name]), dtype=dtype).tolist()

        assert (packed["symbol"], packed["spot"], packed["count"]) == (reply["symbol"], "64000", 26)
        assert column("strike", "<f8") == [float(k) for k in reply["strike"]]
        assert column("is_call", "<u1") == [int(t == "call") for t in reply["option_type"]]
        assert column("model_volatility", "<f8") == reply["model_volatility"]  # no time in it
        assert not np.isnan(column("ask", "<f8")).any()
        # the registry changes under the kept listing: one option delisted, one strike listed
        gone = Instrument.model_validate({**instruments["instruments"][0], "status": "inactive"})
        new_symbol = gone.symbol.rsplit("-", 2)[0] + "-123456-C"
        added = gone.model_copy(update={"symbol": new_symbol, "strike": Decimal(123456), "status": "active",
                                        "option_type": "call"})  # fmt: skip
        async with db_engine.begin() as connection:
            await upsert_instruments(connection, md_schema, [gone, added], "file")
        again = await client.call_raw("market-data", "option_chain_quotes_f64", body, timeout_s=5)
        assert again["symbol"] == [*reply["symbol"][1:], new_symbol]
        assert again["count"] == 26 and again["is_call"] != packed["is_call"]
        plain_again = await ask()
        assert plain_again["symbol"] == again["symbol"] and plain_again["strike"][-1] == "123456"
        async with db_engine.begin() as connection:  # listed again: back in the next reply
            await upsert_instruments(
                connection, md_schema, [gone.model_copy(update={"status": "active"})], "file"
            )
        assert (await ask())["symbol"][0] == reply["symbol"][0]
        with pytest.raises(RemoteError) as unknown:
            await client.call_raw(
                "market-data", "option_chain_quotes_f64", {**body, "underlying": "DOGE/USDT"}, timeout_s=5
            )
        assert unknown.value.code == "not_found"

        strikes = sorted({Decimal(k) for k in reply["strike"]})
        ranged = await ask(strike_from=str(strikes[2]), strike_to=str(strikes[5]), limit=5)
        assert [Decimal(k) for k in ranged["strike"]] == [
            strikes[2],
            strikes[2],
            strikes[3],
            strikes[3],
            strikes[4],
        ]
        assert ranged["symbol"] == reply["symbol"][4:9]

        for extra, op_body in (({}, {"underlying": "DOGE/USDT"}), ({}, {"expiry": "2020-01-03"})):
            with pytest.raises(RemoteError) as missing:
                await ask(**extra, **op_body)
            assert missing.value.code == "not_found"
        for bad, field in (
            ({"underlying": "BTC-"}, "underlying"), ({"limit": 0}, "limit"), ({"expiry": "soon"}, "expiry"),
            ({"strike_from": "-1"}, "strike_from"),
            ({"strike_from": "70000", "strike_to": "60000"}, "strike_to"),
        ):  # fmt: skip
            with pytest.raises(RemoteError) as refused:
                await ask(**bad)
            assert refused.value.code == "validation_error"
            assert refused.value.details["fields"][0]["field"] == field
    finally:
        await runtime.stop()
