"""Catalogs (templates, indicators) and indicator series over a market's stored candles, through
strategy-runner's ops with the real market-data (bars_env: trades → market-data closes candles)."""

from __future__ import annotations

from typing import Any

import numpy as np
from bots_harness import PRICES, SYMBOL, BotsEnv, eventually
from sr_caller import Caller, fields

from tradeloom.quant import indicators as ind
from tradeloom.quant.strategies import BUILTIN_STRATEGIES


async def test_templates_list_every_saveable_template_with_its_parameter_schema(alice: Caller) -> None:
    templates = {t["name"]: t for t in (await alice("templates_list"))["items"]}
    assert set(templates) == set(BUILTIN_STRATEGIES)
    fast = next(p for p in templates["sma_cross"]["params"] if p["name"] == "fast")
    assert fast["type"] == "int" and fast["default"] == 10 and fast["minimum"] == 1 and fast["description"]
    indicators = {i["name"]: i for i in (await alice("indicators_list"))["items"]}
    assert indicators["bollinger"]["outputs"] == ["lower", "middle", "upper"]
    assert indicators["bollinger"]["inputs"] == ["source"]
    assert {p["name"]: p["default"] for p in indicators["macd"]["params"]} == {
        "fast": 12,
        "slow": 26,
        "signal": 9,
    }


async def test_bad_compute_requests_name_the_field(alice: Caller) -> None:
    base: dict[str, Any] = {"indicator": "sma", "symbol": SYMBOL}
    cases = [
        ({**base, "params": {"window": 0}}, "params.window"),
        ({**base, "params": {"window": "ten"}}, "params.window"),
        ({**base, "params": {"span": 3}}, "params.span"),
        ({**base, "indicator": "magic"}, "indicator"),
        ({"indicator": "sma"}, "symbol"),
        ({**base, "dataset_id": "x"}, "symbol"),
        ({**base, "from_ns": 10, "to_ns": 5}, "to_ns"),
        ({**base, "source": "median"}, "source"),
    ]
    for body, field in cases:
        error = await alice.error("indicators_compute", body)
        assert error.code == "validation_error" and field in fields(error), (body, error.details)
    assert (await alice.as_user(None).error("indicators_compute", base)).code == "unauthorized"


async def test_an_indicator_over_stored_candles_is_aligned_to_their_open_times(bots_env: BotsEnv) -> None:
    env = bots_env
    await env.market.bars(0, len(PRICES))  # the last trade closes bar len(PRICES) - 1
    last_ns = env.market.bar_ns(len(PRICES) - 1)

    async def stored() -> bool:
        reply = await env.sr("indicators_compute", {"indicator": "sma", "symbol": SYMBOL, "to_ns": last_ns})
        return len(reply["open_ns"]) == len(PRICES)

    await eventually(stored)
    reply = await env.sr(
        "indicators_compute",
        {
            "indicator": "bollinger",
            "symbol": SYMBOL,
            "venue": "sim",
            "timeframe": "1m",
            "to_ns": last_ns,
            "params": {"window": 4},
        },
    )
    assert reply["open_ns"] == [env.market.bar_ns(i) for i in range(len(PRICES))]
    assert reply["params"] == {"window": 4, "k": 2.0} and reply["venue"] == "sim"
    _lower, middle, upper = ind.bollinger(np.array(PRICES, dtype=np.float64), 4, 2.0)
    assert reply["outputs"]["middle"][:3] == [None, None, None]
    np.testing.assert_allclose(reply["outputs"]["middle"][3:], middle[3:])
    np.testing.assert_allclose(reply["outputs"]["upper"][3:], upper[3:])
    window = await env.sr(
        "indicators_compute",
        {"indicator": "sma", "symbol": SYMBOL, "params": {"window": 2},
         "from_ns": env.market.bar_ns(5), "to_ns": env.market.bar_ns(9)},
    )  # fmt: skip
    assert window["open_ns"] == [env.market.bar_ns(i) for i in range(5, 10)]
    assert window["outputs"]["value"][0] is None
    assert window["outputs"]["value"][1] == (PRICES[5] + PRICES[6]) / 2
    await graph_indicator_is_charted_like_the_builtin(env, last_ns, reply["outputs"])


BANDS_GRAPH: dict[str, Any] = {
    "nodes": [
        {"id": "close", "type": "input.close"},
        {"id": "bands", "type": "indicator.bollinger", "params": {"window": 4}},
        {"id": "width", "type": "math.subtract"},
        {"id": "mid", "type": "sink.output"},
        {"id": "band_width", "type": "sink.output"},
    ],
    "edges": [
        {"source": "close", "target": "bands", "target_port": "in"},
        {"source": "bands", "source_port": "upper", "target": "width", "target_port": "a"},
        {"source": "bands", "source_port": "lower", "target": "width", "target_port": "b"},
        {"source": "bands", "source_port": "middle", "target": "mid", "target_port": "value"},
        {"source": "width", "target": "band_width", "target_port": "value"},
    ],
}


async def graph_indicator_is_charted_like_the_builtin(
    env: BotsEnv, last_ns: int, bollinger: dict[str, list[float | None]]
) -> None:
    """A user indicator as a graph (its sink.output nodes are the outputs) over the same candles."""
    made = await env.sr("user_indicators_create", {"name": "bands", "kind": "graph", "graph": BANDS_GRAPH})
    reply = await env.sr(
        "indicators_compute", {"user_indicator_id": made["indicator_id"], "symbol": SYMBOL, "to_ns": last_ns}
    )
    assert reply["outputs"]["mid"] == bollinger["middle"] and reply["user_indicator_version"] == 1
    upper, lower = bollinger["upper"], bollinger["lower"]
    widths = [None if u is None or lo is None else u - lo for u, lo in zip(upper, lower, strict=True)]
    np.testing.assert_allclose(reply["outputs"]["band_width"][3:], widths[3:])
