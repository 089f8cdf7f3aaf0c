"""The bots bench's recorder: per bot order, the time of every hop from candle to accepted order.

Everything is on the box's wall clock (``time.time()``; the services run on this host, so their
envelope ``time`` and this process's receive times share one clock):

- ``candle_pub``: the ``candle_closed`` envelope's time (market-data made it);
- ``candle_rx``: this process received it (strategy-runner's consumer gets the same publish);
- ``decided``: the start of the bot's decision transaction (its ``bot_orders`` row's
  ``created_at``, read from strategy-runner's database after the run): the decision commits, and
  its order goes to order-router, right after;
- ``stored``: the start of the order's ``pending_new`` transaction at order-router (its row's
  ``created_at``): the submit arrived and its account view was read just before;
- ``risk_rx``: the risk check request reached this process's responder (the ``pending_new`` row,
  lock and outbox row committed just before);
- ``settled``: strategy-runner recorded order-router's answer (the settled ``decision_made``
  envelope time);
- ``pending_evt`` / ``pending_rx``: the ``pending_new`` ``order_updated`` made (in that
  transaction) and received here (through the outbox relay and JetStream);
- ``new_evt`` / ``new_rx``: the ``new`` ``order_updated`` made (in the accept transaction, after
  the risk answer) and received here. "Accepted by order-router" is ``new``: ``new_evt`` is the
  moment order-router's accepting transaction made it; ``new_rx`` adds the outbox relay and
  JetStream's publish to a subscriber.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Iterable
from datetime import datetime

from nats.aio.msg import Msg

from bench.harness import P99_MIN_SAMPLES, p99, percentile_line
from tradeloom.shared.bot_orders import bot_of_client_order_id

HOPS = (
    ("candle made → received here (NATS)", "candle_pub", "candle_rx"),
    ("candle received → decision transaction (strategy-runner)", "candle_rx", "decided"),
    ("decision transaction → pending_new transaction (decision, submit, view)", "decided", "stored"),
    ("pending_new transaction → risk asked (store, commit)", "stored", "risk_rx"),
    ("risk asked → `new` committed (risk answer + accept)", "risk_rx", "new_evt"),
    ("`new` committed → strategy-runner recorded the answer", "new_evt", "settled"),
    ("`new` committed → received here (outbox relay)", "new_evt", "new_rx"),
    ("pending_new made → received here (outbox relay)", "pending_evt", "pending_rx"),
)


def _wall(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def _exit_order(client_id: str) -> bool:
    return client_id.endswith(("-sl", "-tp", "-ts"))


class Recorder:
    """Candle times per (symbol, bar) and each bot order's stamps (first of each)."""

    def __init__(self) -> None:
        self.candles: dict[tuple[str, int], dict[str, float]] = {}
        self.orders: dict[str, dict[str, float]] = {}  # client id → stamps
        self.symbol: dict[str, str] = {}

    def _stamp(self, client_id: str, **stamps: float) -> None:
        order = self.orders.setdefault(client_id, {})
        for name, value in stamps.items():
            order.setdefault(name, value)

    async def on_candle(self, msg: Msg) -> None:
        seen = time.time()
        envelope = json.loads(msg.data)
        data = envelope["data"]
        if data["timeframe"] == "1m":
            stamps = {"candle_rx": seen, "candle_pub": _wall(envelope["time"])}
            self.candles.setdefault((data["symbol"], int(data["open_ns"])), stamps)

    async def on_decision(self, msg: Msg) -> None:
        envelope = json.loads(msg.data)
        client_id = envelope["data"]["decision"].get("client_order_id")
        if client_id:
            self._stamp(client_id, settled=_wall(envelope["time"]))

    def add_rows(self, **columns: dict[str, float]) -> None:
        """Stamps read from the services' databases (client id → time) after the run."""
        for name, times in columns.items():
            for client_id, stamp in times.items():
                if client_id in self.orders:
                    self._stamp(client_id, **{name: stamp})

    def on_risk(self, data: bytes) -> None:
        seen, raw = time.time(), json.loads(data)
        body = raw.get("data", raw)
        for check in body.get("checks", [body]):  # a batch check: every order of it
            if check.get("client_order_id"):
                self._stamp(check["client_order_id"], risk_rx=seen)

    async def on_order(self, msg: Msg) -> None:
        seen = time.time()
        envelope = json.loads(msg.data)
        order = envelope["data"]["order"]
        client_id = order["client_order_id"]
        if bot_of_client_order_id(client_id) is None or _exit_order(client_id):
            return
        self.symbol.setdefault(client_id, order["symbol"])
        made = _wall(envelope["time"])
        self._stamp(client_id, first_rx=seen)
        if order["status"] == "pending_new":
            self._stamp(client_id, pending_evt=made, pending_rx=seen)
        elif order["status"] == "new" or "new_rx" not in self.orders[client_id]:
            self._stamp(client_id, new_evt=made, new_rx=seen)  # new, or what it went to from pending

    def window(self, since: float, until: float) -> list[dict[str, float]]:
        """Every bot order first seen in the window, with its candle's stamps."""
        rows = []
        for client_id, stamps in self.orders.items():
            symbol = self.symbol.get(client_id)
            if symbol is None or not since <= stamps["first_rx"] < until:
                continue
            candle = self.candles.get((symbol, int(client_id.rsplit("-", 1)[1])))
            if candle is not None:
                rows.append({**candle, **stamps})
        return rows

    def first_orders(self, since: float, until: float) -> int:
        return sum(1 for s in self.orders.values() if "first_rx" in s and since <= s["first_rx"] < until)


def spans(rows: Iterable[dict[str, float]], start: str, end: str) -> list[float]:
    return [row[end] - row[start] for row in rows if start in row and end in row]


MEASURES = (
    ("first order_updated received here", "first_rx"),
    ("`new` committed at order-router (accepted: the issue's measure)", "new_evt"),
    ("`new` order_updated received here (+ outbox relay, JetStream)", "new_rx"),
)


def report(rows: list[dict[str, float]]) -> None:
    """The end-to-end measures, then each hop (median, p99 from >= 10,000 samples, max of N)."""
    for title, end in MEASURES:
        samples = spans(rows, "candle_rx", end)
        print(f"  candle_closed → {title}: {percentile_line(samples)}")
        if samples:
            print(f"    mean {statistics.fmean(samples) * 1000:.1f} ms")
    print("  hops (median / p99 when >= 10,000 samples / max of N):")
    for title, start, end in HOPS:
        ordered = sorted(spans(rows, start, end))
        if ordered:
            tail = f"{p99(ordered) * 1000:.1f} ms / " if len(ordered) >= P99_MIN_SAMPLES else ""
            print(
                f"    {title}: {statistics.median(ordered) * 1000:.1f} ms / {tail}"
                f"{ordered[-1] * 1000:.1f} ms of {len(ordered)}"
            )
    slowest_turns(rows)


def slowest_turns(rows: list[dict[str, float]], goal_s: float = 0.100, shown: int = 5) -> None:
    """Per candle turn (the candles made within the same second: one burst of orders), its slowest
    order (candle received → ``new`` committed): how many turns had one over ``goal_s``, and the
    slowest turns with their time in the window and the hop that took longest in that order, so a
    tail that comes back periodically shows as such."""
    turns: dict[int, dict[str, float]] = {}
    for row in rows:
        if "new_evt" not in row:
            continue
        turn = int(row["candle_pub"])
        if row["new_evt"] - row["candle_rx"] > turns.get(turn, {}).get("_total", -1.0):
            turns[turn] = {**row, "_total": row["new_evt"] - row["candle_rx"]}
    if not turns:
        return
    first = min(turns)
    over = sum(1 for row in turns.values() if row["_total"] > goal_s)
    print(f"  candle turns: {len(turns)}; with an order over {goal_s * 1000:.0f} ms: {over}")
    for turn, row in sorted(turns.items(), key=lambda item: -item[1]["_total"])[:shown]:
        hops = [
            (row[end] - row[start], title) for title, start, end in HOPS[1:5] if start in row and end in row
        ]
        took, title = max(hops) if hops else (0.0, "-")
        print(
            f"    at +{turn - first:4d} s: {row['_total'] * 1000:6.1f} ms, "
            f"longest hop {took * 1000:.1f} ms: {title}"
        )
