"""What a soak prints each minute (``bench_load --soak``): whether anything grows while the load holds.

For each minute: every process's RSS, the REST calls of that minute (p50 and their slowest), the
WebSocket fan-out delay of that minute, and the services' consumer lag — for every durable
JetStream consumer, the messages not yet delivered plus those delivered and not yet acked (from
nats-server's monitoring ``/jsz``) — its sum and its largest, so a consumer falling behind shows as a
rising column, not only in the final figures.
"""

from __future__ import annotations

import contextlib
import json
import urllib.request
from dataclasses import dataclass, field

REST_KINDS = ("market", "portfolio", "orders_read", "order_submit")


def consumer_lag(monitor_url: str) -> dict[str, int]:
    """Pending + ack-pending per durable consumer (``stream/durable``); empty when unknown."""
    if not monitor_url:
        return {}
    lag: dict[str, int] = {}
    with (
        contextlib.suppress(OSError, ValueError, KeyError, TypeError),
        urllib.request.urlopen(f"{monitor_url}/jsz?streams=true&consumers=true", timeout=5) as answer,
    ):
        report = json.load(answer)
        for account in report.get("account_details") or []:
            for stream in account.get("stream_detail") or []:
                for consumer in stream.get("consumer_detail") or []:
                    durable = (consumer.get("config") or {}).get("durable_name")
                    if durable:
                        pending = int(consumer.get("num_pending", 0))
                        lag[f"{stream['name']}/{durable}"] = pending + int(consumer.get("num_ack_pending", 0))
    return lag


def _p50_max(samples: list[float]) -> str:
    if not samples:
        return "-"
    ordered = sorted(samples)
    return f"{ordered[len(ordered) // 2] * 1e3:.0f}/{ordered[-1] * 1e3:.0f}"


@dataclass
class SoakMinutes:
    """Per-minute figures from the shared latency lists (each minute reads what was added since)."""

    latencies: dict[str, list[float]]
    seen: dict[str, int] = field(default_factory=dict)
    lag_rows: list[tuple[float, int, int]] = field(default_factory=list)  # (elapsed s, sum, max)
    rss_rows: list[dict[str, float]] = field(default_factory=list)

    def _new(self, kind: str) -> list[float]:
        samples = self.latencies.get(kind, [])
        start = self.seen.get(kind, 0)
        self.seen[kind] = len(samples)
        return samples[start:]

    def line(self, elapsed_s: float, rss: dict[str, float], monitor_url: str) -> str:
        rest = [s for kind in REST_KINDS for s in self._new(kind)]
        fanout = self._new("ws_fanout")
        lag = consumer_lag(monitor_url)
        total, most = sum(lag.values()), max(lag.values(), default=0)
        worst = max(lag, key=lag.__getitem__) if lag and most else "-"
        self.lag_rows.append((elapsed_s, total, most))
        self.rss_rows.append(rss)
        memory = ", ".join(f"{name} {mib:.0f}" for name, mib in rss.items())
        return (
            f"   {elapsed_s:6.0f} s: REST {len(rest)} calls p50/max {_p50_max(rest)} ms; "
            f"fan-out p50/max {_p50_max(fanout)} ms; consumer lag sum {total}, max {most} ({worst}); "
            f"RSS MiB {memory}"
        )

    def summary(self) -> str:
        """Each process's RSS growth from the first minute's reading to the last (the first minute
        is past start-up and sign-up), and the consumer lag at the first and last minute."""
        if len(self.rss_rows) < 2:
            return "   soak: fewer than two minutes, no growth figures"
        first, last = self.rss_rows[0], self.rss_rows[-1]
        growth = ", ".join(f"{n} {last[n] - first[n]:+.1f}" for n in first if n in last)
        minutes = (self.lag_rows[-1][0] - self.lag_rows[0][0]) / 60
        (_, sum0, max0), (_, sum1, max1) = self.lag_rows[0], self.lag_rows[-1]
        return (
            f"   soak: RSS growth over the last {minutes:.0f} minutes (MiB): {growth}; "
            f"consumer lag sum {sum0} -> {sum1}, max {max0} -> {max1}"
        )
