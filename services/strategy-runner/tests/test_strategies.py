"""The saved-strategy operations end to end over real NATS and Postgres (service in-process)."""

from __future__ import annotations

import asyncio

from sr_caller import Caller, fields

from tradeloom.shared.contracts.strategy import StrategyInfo, StrategyVersionInfo

SMA = {"name": "trend 5-20", "template": "sma_cross", "params": {"fast": 5, "slow": 20}}


async def test_create_get_versions_and_delete(alice: Caller) -> None:
    made = await alice("strategies_create", {**SMA, "description": "slow trend"})
    StrategyInfo.model_validate(made)
    sid = made["strategy_id"]
    assert (made["name"], made["template"], made["description"], made["latest_version"]) == (
        "trend 5-20", "sma_cross", "slow trend", 1,
    )  # fmt: skip
    assert await alice("strategies_get", {"strategy_id": sid}) == made

    first = await alice("strategy_versions_get", {"strategy_id": sid})
    StrategyVersionInfo.model_validate(first)
    assert first["version"] == 1 and first["template"] == "sma_cross"
    assert first["params"] == {"fast": 5, "slow": 20, "allow_short": False}  # validated, defaults in

    second = await alice(
        "strategy_versions_add",
        {"strategy_id": sid, "params": {"fast": 8.0, "allow_short": True}, "note": "x"},
    )
    assert second["version"] == 2 and second["note"] == "x"
    assert second["params"] == {"fast": 8, "slow": 20, "allow_short": True}
    assert type(second["params"]["fast"]) is int

    assert (await alice("strategy_versions_get", {"strategy_id": sid}))["version"] == 2  # latest
    assert await alice("strategy_versions_get", {"strategy_id": sid, "version": 1}) == first
    listed = await alice("strategy_versions_list", {"strategy_id": sid})
    assert listed["strategy_id"] == sid and [v["version"] for v in listed["items"]] == [1, 2]
    info = await alice("strategies_get", {"strategy_id": sid})
    assert info["latest_version"] == 2 and info["updated_at"] >= made["updated_at"]

    assert await alice("strategies_delete", {"strategy_id": sid}) == {"strategy_id": sid, "deleted": True}
    for op, body in (
        ("strategies_get", {"strategy_id": sid}),
        ("strategy_versions_list", {"strategy_id": sid}),
        ("strategy_versions_get", {"strategy_id": sid, "version": 1}),
        ("strategies_delete", {"strategy_id": sid}),
    ):
        assert (await alice.error(op, body)).code == "not_found", op
    # the name is free again
    assert (await alice("strategies_create", SMA))["latest_version"] == 1


async def test_list_is_newest_first_with_a_cursor(alice: Caller) -> None:
    made = [
        (await alice("strategies_create", {"name": f"s{i}", "template": "macd"}))["strategy_id"]
        for i in range(5)
    ]
    await alice.as_user("bob")("strategies_create", {"name": "bobs", "template": "macd"})
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await alice("strategies_list", {"limit": 2, "cursor": cursor})
        seen += [item["strategy_id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made[::-1] and pages == 3
    whole = await alice("strategies_list", {})
    assert [i["name"] for i in whole["items"]] == ["s4", "s3", "s2", "s1", "s0"] and whole[
        "next_cursor"
    ] is None
    exact = await alice("strategies_list", {"limit": 5})
    assert len(exact["items"]) == 5 and exact["next_cursor"] is None  # no empty last page
    assert (await alice.as_user("carol")("strategies_list", {}))["items"] == []

    for bad in ("not-a-uuid", "1234", ""):
        error = await alice.error("strategies_list", {"cursor": bad})
        assert error.code == "validation_error" and fields(error) == ["cursor"], (bad, error.message)
    for body, field in (({"limit": 0}, "limit"), ({"limit": 201}, "limit")):
        error = await alice.error("strategies_list", body)
        assert error.code == "validation_error" and fields(error) == [field]


async def test_another_users_strategy_is_not_found_everywhere(alice: Caller) -> None:
    sid = (await alice("strategies_create", SMA))["strategy_id"]
    bob = alice.as_user("bob")
    unknown = "0190f0a0-0000-7000-8000-000000000001"
    for strategy_id in (sid, unknown, "not-a-uuid"):
        for op, body in (
            ("strategies_get", {}),
            ("strategies_delete", {}),
            ("strategy_versions_list", {}),
            ("strategy_versions_get", {}),
            ("strategy_versions_get", {"version": 1}),
            ("strategy_versions_add", {"params": {"fast": 3, "slow": 9}}),
        ):
            error = await bob.error(op, {"strategy_id": strategy_id, **body})
            assert error.code == "not_found", (strategy_id, op, error.code)
            assert error.message == f"no strategy {strategy_id}"  # the same answer: ids cannot be probed
    assert (await bob("strategies_list", {}))["items"] == []
    # bob may use the same name: names are unique per user
    assert (await bob("strategies_create", SMA))["name"] == SMA["name"]
    after = await alice("strategies_get", {"strategy_id": sid})
    assert after["latest_version"] == 1

    nobody = alice.as_user(None)
    for op, body in (
        ("strategies_create", SMA),
        ("strategies_list", {}),
        ("strategies_get", {"strategy_id": sid}),
        ("strategy_versions_get", {"strategy_id": sid}),
    ):
        assert (await nobody.error(op, body)).code == "unauthorized", op


async def test_bad_inputs_name_the_field(alice: Caller) -> None:
    unknown = await alice.error("strategies_create", {"name": "x", "template": "nope"})
    assert unknown.code == "validation_error" and fields(unknown) == ["template"]
    assert "sma_cross" in unknown.message and "rsi_reversion" in unknown.message  # the known ones
    lot = await alice.error("strategies_create", {"name": "x", "template": "grid"})
    assert fields(lot) == ["template"]
    for params, field in (
        ({"fast": -3}, "params.fast"),
        ({"fast": "5"}, "params.fast"),
        ({"fast": 30, "slow": 10}, "params.slow"),
        ({"speed": 1}, "params.speed"),
    ):
        error = await alice.error(
            "strategies_create", {"name": "x", "template": "sma_cross", "params": params}
        )
        assert error.code == "validation_error" and fields(error) == [field], (params, error.message)
    extra = await alice.error("strategies_create", {**SMA, "owner": "bob"})
    assert extra.code == "validation_error" and fields(extra) == ["owner"]
    for name in ("", "bad;name", "x" * 101):
        error = await alice.error("strategies_create", {**SMA, "name": name})
        assert fields(error) == ["name"], name
    assert (await alice("strategies_list", {}))["items"] == []  # nothing was stored

    sid = (await alice("strategies_create", SMA))["strategy_id"]
    duplicate = await alice.error("strategies_create", {"name": SMA["name"], "template": "rsi_reversion"})
    assert duplicate.code == "conflict" and fields(duplicate) == ["name"]

    bad_version = await alice.error("strategy_versions_add", {"strategy_id": sid, "params": {"slow": 2}})
    assert bad_version.code == "validation_error" and fields(bad_version) == ["params.slow"]
    extra_add = await alice.error("strategy_versions_add", {"strategy_id": sid, "template": "macd"})
    assert fields(extra_add) == ["template"]  # the template of a strategy never changes
    zero = await alice.error("strategy_versions_get", {"strategy_id": sid, "version": 0})
    assert zero.code == "validation_error" and fields(zero) == ["version"]
    missing = await alice.error("strategy_versions_get", {"strategy_id": sid, "version": 7})
    assert missing.code == "not_found" and missing.details == {"strategy_id": sid, "version": 7}
    assert (await alice("strategies_get", {"strategy_id": sid}))["latest_version"] == 1


async def test_concurrent_version_adds_get_distinct_numbers(alice: Caller) -> None:
    sid = (await alice("strategies_create", SMA))["strategy_id"]
    added = await asyncio.gather(
        *(
            alice("strategy_versions_add", {"strategy_id": sid, "params": {"fast": n}, "note": f"n{n}"})
            for n in range(1, 11)
        )
    )
    assert sorted(v["version"] for v in added) == list(range(2, 12))
    listed = (await alice("strategy_versions_list", {"strategy_id": sid}))["items"]
    assert [v["version"] for v in listed] == list(range(1, 12))
    by_note = {v["note"]: v["params"]["fast"] for v in listed[1:]}
    assert by_note == {f"n{n}": n for n in range(1, 11)}  # each version kept its own params
    assert (await alice("strategies_get", {"strategy_id": sid}))["latest_version"] == 11


async def test_version_limit_is_a_conflict(alice: Caller) -> None:
    """The fixture caps versions at 20 so that strategy_versions_list stays one bounded reply."""
    sid = (await alice("strategies_create", SMA))["strategy_id"]
    await asyncio.gather(*(alice("strategy_versions_add", {"strategy_id": sid}) for _ in range(19)))
    full = await alice.error("strategy_versions_add", {"strategy_id": sid})
    assert full.code == "conflict" and full.details["max_versions"] == 20
    assert (await alice("strategy_versions_get", {"strategy_id": sid}))["version"] == 20
