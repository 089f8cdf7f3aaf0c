"""A strategy bot's configuration: the checks create and update share, its current and pending
configuration, and a pending one applied by a start.

The configuration is what the runner reads from the bot's row at each decision (pinned version
with its template, params, graph, code; timeframe, sizing, max_position; its symbols). ``bots_update`` of a
running or paused bot stores the new one in ``bots.pending_config``, so the running bot keeps its
own; a start applies it (``apply_pending``) in the start's transaction, before the bot runs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.contracts.bots import BotPendingConfig, BotSizing
from tradeloom.shared.contracts.strategy_graph import StrategyGraph
from tradeloom.shared.contracts.wire import plain
from tradeloom.shared.errors import field_invalid
from tradeloom.strategy_runner.domain.bot_exits import exit_settings
from tradeloom.strategy_runner.domain.exit_plan import not_live as exits_not_live
from tradeloom.strategy_runner.domain.exit_plan import not_on_venue
from tradeloom.strategy_runner.domain.graph import live_sizing_issue
from tradeloom.strategy_runner.store.bot_config_store import BotConfigStore

# what a version pins, copied into the bot (the strategy's later changes do not change it)
PINNED = ("strategy_version", "template", "params", "graph", "code")
CONFIG = (*PINNED, "timeframe", "sizing", "max_position", "symbols")


def check_live(
    graph: Mapping[str, Any] | None,
    sizing: BotSizing,
    *,
    version_field: str,
    venue: str | None = None,
    symbols: Sequence[str] = (),
) -> None:
    """A graph's exits must be ones a live bot can rest (on an exchange account at ``venue``
    trading ``symbols`` when given; None: a paper account), and its ``sink.position_size`` must be
    the bot's sizing: 422 on ``version_field`` (the exits) or ``sizing``."""
    if graph is None:
        return
    exits = exit_settings(graph)
    refused = exits_not_live(exits) or (not_on_venue(exits, venue, symbols) if venue is not None else None)
    if refused is not None:
        raise field_invalid(version_field, refused)
    mismatch = live_sizing_issue(StrategyGraph.model_validate(graph), sizing.kind, sizing.percent)
    if mismatch is not None:
        raise field_invalid("sizing", mismatch)


def pinned_of(version: Row[Any]) -> dict[str, Any]:
    """What a strategy version gives a bot."""
    return {
        "strategy_version": version.version, "template": version.template, "params": version.params,
        "graph": version.graph, "code": version.code,
    }  # fmt: skip


def config_of(row: Row[Any]) -> dict[str, Any]:
    """The configuration the bot runs now (JSON-ready, decimals as plain strings)."""
    return {
        "strategy_version": row.strategy_version, "template": row.template, "params": row.params,
        "graph": row.graph, "code": row.code, "timeframe": row.timeframe,
        "sizing": BotSizing.model_validate(row.sizing).model_dump(mode="json"),
        "max_position": plain(Decimal(row.max_position)), "symbols": list(row.symbols),
    }  # fmt: skip


def pending_of(row: Row[Any]) -> dict[str, Any] | None:
    """The pending configuration, whole (one stored before symbols could change has the current)."""
    return None if row.pending_config is None else config_of(row) | dict(row.pending_config)


def changes_between(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """field → {old, new} of what differs (a version's graph and code are named by the version)."""
    return {
        key: {"old": old.get(key), "new": new.get(key)}
        for key in CONFIG
        if key not in ("graph", "code") and old.get(key) != new.get(key)
    }


def pending_view(row: Row[Any]) -> BotPendingConfig | None:
    """The configuration the bot's next start runs, when one is pending."""
    pending = pending_of(row)
    if pending is None:
        return None
    return BotPendingConfig.model_validate({key: pending.get(key) for key in BotPendingConfig.model_fields})


async def apply_pending(conn: AsyncConnection, store: BotConfigStore, row: Row[Any]) -> None:
    """At a start (under the bot's row lock): a pending configuration becomes the bot's, audited."""
    pending = pending_of(row)
    if pending is None:
        return
    bot_id = uuid.UUID(str(row.id))
    await store.apply(conn, bot_id, pending)
    await store.audit(conn, bot_id, row.user_id, changes_between(config_of(row), pending), "started")
