"""Stream channels of ``/v1/ws`` (and the backtest SSE): which JetStream stream and subjects feed a
channel, and whose data it may carry.

| channel | stream | subjects | private? |
|---|---|---|---|
| ``prices.<symbol>`` | MD_TRADES | ``md.evt.trade.v1.<venue>.<SYMBOL-TOKEN>`` | no |
| ``candles.<symbol>.<tf>`` | MD_CANDLES | ``md.evt.candle_closed.v1.<venue>.<SYMBOL-TOKEN>.<tf>`` | no |
| ``book.<symbol>`` | MD_BOOKS | ``md.evt.book.v1.<venue>.<SYMBOL-TOKEN>`` | no |
| ``orders`` / ``fills`` | ORDERS | ``orders.evt.>`` (fills: event names starting ``fill``) | yes |
| ``positions`` | RISK, ANALYTICS | ``risk.evt.>`` (``position…``) and option strategy marks | yes |
| ``alerts`` | RISK, ANALYTICS | ``risk.evt.>`` (not ``position…``) and evaluation statuses | yes |
| ``backtests.<id>`` | BACKTEST_EVENTS | ``backtest.evt.<name>.v1.<id>`` for every backtest event | yes |
| ``bots.<id>`` | STRATEGY | ``strategy.evt.<name>.v1.<id>`` for every bot event | yes |

**Ownership of an envelope** (private channels): ``data.user_id``. An event without a
``user_id`` is never delivered on a private channel; one with another user's id never reaches
this caller, whichever stream it comes from. ``alerts`` also carries analytics'
``analytics.evt.evaluation_status.v1.<evaluation_id>`` (prop-firm evaluations), ``positions`` also
``analytics.evt.option_strategy_marked.v1.<option_strategy_id>`` (saved option strategies revalued).
Market channels use
``venue`` (setting ``WS_VENUE``) for the subject.

**Several streams**: a channel may be fed by more than one stream (``Channel.also``); each is
followed on its own (live: the process's shared consumer of that feed, ``live_hub``; resumed: an
ordered consumer of the subscription's own) and every item names its ``stream``, whose sequence
it carries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tradeloom.shared.contracts import backtest as backtest_contracts
from tradeloom.shared.contracts import bots as bot_contracts
from tradeloom.shared.publish import event_subject
from tradeloom.shared.subjects import Subjects, check_token, symbol_token

MAX_CHANNEL_CHARS = 128
_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_TIMEFRAME = re.compile(r"^[0-9]{1,4}[smhdwM]$")
_SYMBOL = re.compile(r"^[A-Za-z0-9]{1,20}(/[A-Za-z0-9]{1,20})?$")


class BadChannel(ValueError):
    """A channel name that is unknown or malformed (the message says which part)."""


@dataclass(frozen=True)
class Feed:
    """One stream feeding a channel and the subjects taken from it."""

    stream: str  # unprefixed stream name, e.g. MD_TRADES
    filters: tuple[str, ...]


@dataclass(frozen=True)
class Channel:
    name: str
    stream: str  # unprefixed stream name, e.g. MD_TRADES
    filters: tuple[str, ...]
    private: bool
    object_id: str | None = None  # backtests.<id> / bots.<id>
    accepts: Callable[[str, dict[str, Any]], bool] = field(default=lambda _type, _data: True)
    also: tuple[Feed, ...] = ()  # further streams feeding this channel

    def feeds(self) -> tuple[Feed, ...]:
        """Every stream feeding the channel, its first (``stream``, ``filters``) first."""
        return (Feed(self.stream, self.filters), *self.also)

    def delivers(self, caller_id: str, event_type: str, data: dict[str, Any]) -> bool:
        """Whether an event (its CloudEvents ``type`` and ``data``) belongs on this channel for the caller."""
        if self.private and data.get("user_id") != caller_id:
            return False
        return self.accepts(event_type, data)


def _event_name(event_type: str) -> str:
    """``tradeloom.orders.fill_recorded.v1`` → ``fill_recorded``."""
    parts = event_type.split(".")
    return parts[2] if len(parts) == 4 else ""


def _on_positions(event_type: str) -> bool:
    """Risk's ``position…`` events and analytics' saved option strategies' revaluations."""
    name = _event_name(event_type)
    return name.startswith("position") or name == "option_strategy_marked"


def _symbol(text: str) -> str:
    if not _SYMBOL.fullmatch(text):
        raise BadChannel(f"invalid symbol {text!r}: e.g. BTC/USDT")
    return symbol_token(text)


def _object_id(text: str, kind: str) -> str:
    if not _ID.fullmatch(text):
        raise BadChannel(f"invalid {kind} id {text!r}: letters, digits, '-' and '_' (1..64)")
    return check_token(text)


def backtest_subjects(subjects: Subjects, backtest_id: str) -> tuple[str, ...]:
    """Every backtest event's subject for one backtest (``backtest.evt.<name>.v1.<id>``)."""
    return tuple(event_subject(subjects, c.model, backtest_id) for c in backtest_contracts.EVENTS)


def bot_subjects(subjects: Subjects, bot_id: str) -> tuple[str, ...]:
    """Every bot event's subject for one bot (``strategy.evt.bot_status.v1.<id>``, ``bot_decision``)."""
    return tuple(event_subject(subjects, c.model, bot_id) for c in bot_contracts.EVENTS)


def parse_channel(name: str, subjects: Subjects, venue: str) -> Channel:  # noqa: PLR0911 (one per kind)
    """The channel ``name`` names; ``BadChannel`` saying what is wrong otherwise."""
    if not name or len(name) > MAX_CHANNEL_CHARS:
        raise BadChannel(f"a channel name has 1..{MAX_CHANNEL_CHARS} characters")
    kind, _, rest = name.partition(".")
    if kind == "prices" and rest:
        return Channel(name, "MD_TRADES", (subjects.event("md", "trade", 1, venue, _symbol(rest)),), False)
    if kind == "book" and rest:
        return Channel(name, "MD_BOOKS", (subjects.event("md", "book", 1, venue, _symbol(rest)),), False)
    if kind == "candles" and "." in rest:
        symbol, _, timeframe = rest.rpartition(".")
        if not _TIMEFRAME.fullmatch(timeframe):
            raise BadChannel(f"invalid timeframe {timeframe!r}: e.g. 1m, 5m, 1h, 1d")
        subject = subjects.event("md", "candle_closed", 1, venue, _symbol(symbol), timeframe)
        return Channel(name, "MD_CANDLES", (subject,), False)
    if rest == "" and kind in ("orders", "fills"):
        fills = kind == "fills"
        return Channel(
            name, "ORDERS", (subjects.event_filter("orders"),), True,
            accepts=lambda t, _d: _event_name(t).startswith("fill") == fills,
        )  # fmt: skip
    if rest == "" and kind in ("positions", "alerts"):
        positions = kind == "positions"
        evaluations = Feed("ANALYTICS", (subjects.event_filter("analytics", "evaluation_status", 1),))
        marks = Feed("ANALYTICS", (subjects.event_filter("analytics", "option_strategy_marked", 1),))
        return Channel(
            name, "RISK", (subjects.event_filter("risk"),), True,
            accepts=lambda t, _d: _on_positions(t) == positions,
            also=(marks,) if positions else (evaluations,),
        )  # fmt: skip
    if kind == "backtests" and rest:
        backtest_id = _object_id(rest, "backtest")
        return Channel(
            name, "BACKTEST_EVENTS", backtest_subjects(subjects, backtest_id), True, object_id=backtest_id,
            accepts=lambda _t, d: d.get("backtest_id") == backtest_id,
        )  # fmt: skip
    if kind == "bots" and rest:
        bot_id = _object_id(rest, "bot")
        return Channel(
            name, "STRATEGY", bot_subjects(subjects, bot_id), True, object_id=bot_id,
            accepts=lambda _t, d: d.get("bot_id") == bot_id,
        )  # fmt: skip
    raise BadChannel(
        f"unknown channel {name!r}: prices.<symbol>, candles.<symbol>.<tf>, book.<symbol>, orders, "
        "fills, positions, alerts, backtests.<id>, bots.<id>"
    )
