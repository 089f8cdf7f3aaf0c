"""Subject strings and stream names: shapes, namespace prefix, tokens that would change a shape."""

from __future__ import annotations

import pytest

from tradeloom.shared.subjects import Subjects, check_token, symbol_token


def test_event_command_request_and_dead_letter_shapes() -> None:
    s = Subjects()
    assert s.event("md", "trade", 1) == "md.evt.trade.v1"
    assert s.event("md", "trade", 2, "binance", "BTC-USDT") == "md.evt.trade.v2.binance.BTC-USDT"
    assert s.command("backtest", "run", 1) == "backtest.cmd.run.v1"
    assert s.request("market-data", "list_candles") == "svc.market-data.list_candles"
    assert s.request_group("market-data") == "svc.market-data"
    assert s.dead_letter("orders.evt.fill.v1.a1") == "dlq.orders.evt.fill.v1.a1"
    assert s.stream("ORDERS") == "ORDERS"
    assert s.pattern("orders.evt.>") == "orders.evt.>"


def test_event_filters() -> None:
    s = Subjects()
    assert s.event_filter("md") == "md.evt.>"
    assert s.event_filter("md", "trade") == "md.evt.trade.>"
    assert s.event_filter("md", "trade", 1) == "md.evt.trade.v1.>"


def test_prefix_namespaces_everything() -> None:
    s = Subjects("T1abc")
    assert s.prefix == "t1abc"
    assert s.event("risk", "halt", 1, "acct-1") == "t1abc.risk.evt.halt.v1.acct-1"
    assert s.command("sandbox", "execute", 1) == "t1abc.sandbox.cmd.execute.v1"
    assert s.request("gateway-auth", "login") == "t1abc.svc.gateway-auth.login"
    assert s.pattern("dlq.>") == "t1abc.dlq.>"
    assert s.stream("MD_TRADES") == "T1ABC_MD_TRADES"
    # dead letters keep the namespace once, whether given the full or the stripped subject
    assert s.dead_letter("t1abc.orders.evt.fill.v1") == "t1abc.dlq.orders.evt.fill.v1"
    assert s.dead_letter("orders.evt.fill.v1") == "t1abc.dlq.orders.evt.fill.v1"
    unprefixed = s.strip  # Subjects.strip: removes the namespace, not characters
    assert unprefixed("t1abc.md.evt.trade.v1") == "md.evt.trade.v1"
    assert unprefixed("other.md.evt.trade.v1") == "other.md.evt.trade.v1"
    assert unprefixed("t1abcd.md.evt.trade.v1") == "t1abcd.md.evt.trade.v1"


@pytest.mark.parametrize(
    ("symbol", "token"), [("BTC/USDT", "BTC-USDT"), (" eth/usd ", "ETH-USD"), ("SOL_PERP", "SOL_PERP")]
)
def test_symbol_token(symbol: str, token: str) -> None:
    assert symbol_token(symbol) == token


@pytest.mark.parametrize("bad", ["", "a.b", "a b", "*", ">", "BTC/US.DT", "x\n", "é"])
def test_bad_tokens_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid subject token"):
        check_token(bad)


@pytest.mark.parametrize("bad", ["BTC.USDT", "BTC USDT", "*", ">", ""])
def test_bad_symbols_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        symbol_token(bad)


def test_bad_keys_names_and_prefixes_refused() -> None:
    s = Subjects()
    with pytest.raises(ValueError):
        s.event("md", "trade", 1, "BTC.USDT")  # a dot in a key would add a token
    with pytest.raises(ValueError):
        s.event("md", "trade", 1, "*")
    with pytest.raises(ValueError):
        s.event("MD", "trade", 1)  # names are lower-case
    with pytest.raises(ValueError):
        s.event("md", "trade.x", 1)
    with pytest.raises(ValueError):
        s.command("md", "Run", 1)
    with pytest.raises(ValueError):
        s.request("market.data", "ping")
    with pytest.raises(ValueError):
        s.request("market-data", "list-candles")
    for prefix in ("a.b", "a b", "*", ">"):
        with pytest.raises(ValueError):
            Subjects(prefix)
