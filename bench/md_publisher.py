"""The market-data bench's synthetic source, in its own process (its own GIL and core).

Full speed (``rate`` None): 300,000 trades generated up front, published through ``MarketPublisher``
(the source's own code path: payload built and encoded while publishing). Paced (sustained): every
message is generated AND encoded up front (untimed, "generated … s" in the report) by the same code
(``trades_envelope`` → ``Envelope.to_bytes``), split around its ``time``; while paced, a publish only
writes the current time into those bytes. Generating and encoding as it went cost the publisher
~15 µs a trade and capped what it really offered below the 75,000/s asked on a loaded 2-core box
(58,925/s at load 1.3–2.6, 29,930/s at load 8.7), so the sustained figure measured the producer,
not the store. The store's side (parse, validate, insert) is unchanged by this.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection

import nats

from tradeloom.market_data.domain.simulator import SimConfig, SimTrade, SyntheticMarket
from tradeloom.market_data.sources.publisher import MarketPublisher, trades_envelope
from tradeloom.shared.publish import EventPublisher, publish_headers
from tradeloom.shared.subjects import Subjects

TRADES_PER_SYMBOL = 150_000
SPACING_NS = 20_000  # simulated time between a symbol's trades
MARKETS = (("BTC/USDT", 65000.0), ("ETH/USDT", 3500.0))
_SENTINEL = datetime(2000, 1, 1, 0, 0, 0, 123456, tzinfo=UTC)
Encoded = tuple[str, dict[str, str], bytes, bytes]  # subject, headers, bytes before/after the time


def sim_batches(run: str, start_ns: int) -> list[tuple[str, list[SimTrade]]]:
    """The bench's trades (deterministic: the publisher process and the peer build the same)."""
    batches = []
    for symbol, price in MARKETS:
        market = SyntheticMarket(SimConfig(symbol, start_price=price), seed=1, run_id=f"bench{run}")
        batches.append((symbol, market.trades([start_ns + i * SPACING_NS for i in range(TRADES_PER_SYMBOL)])))
    return batches


def encode_paced(  # noqa: PLR0917
    publisher: MarketPublisher, run: str, start_ns: int, per_symbol: int, slice_size: int, batch: int
) -> list[list[Encoded]]:
    """Every step's messages (``slice_size`` trades of each symbol, interleaved), encoded now."""
    markets = [
        (symbol, SyntheticMarket(SimConfig(symbol, start_price=price), seed=1, run_id=f"bench{run}"))
        for symbol, price in MARKETS
    ]
    source = publisher.publisher.source
    steps: list[list[Encoded]] = []
    for offset in range(0, per_symbol, slice_size):
        size = min(slice_size, per_symbol - offset)
        step: list[Encoded] = []
        for symbol, market in markets:
            subject = publisher.trades_subject("sim", symbol)
            trades = market.trades([start_ns + (offset + i) * SPACING_NS for i in range(size)])
            for i in range(0, size, batch):
                envelope = trades_envelope(source, "sim", symbol, trades[i : i + batch])
                envelope.time = _SENTINEL
                before, marker, after = envelope.to_bytes().partition(b'"time":"2000-01-01T00:00:00.123456Z"')
                assert marker, "envelope time not found"
                step.append((subject, publish_headers(envelope), before + b'"time":"', b'"' + after))
        steps.append(step)
    return steps


async def publish_all(  # noqa: PLR0917
    url: str, run: str, start_ns: int, rate: float | None, report: Connection, per_symbol: int, batch: int
) -> None:
    nc = await nats.connect(url)
    js = nc.jetstream()
    subjects = Subjects(f"benchmd{run}")
    publisher = MarketPublisher(EventPublisher(js, subjects, "bench"), batch_max=batch, concurrency=16)
    slice_size = 2_000 if rate else 10_000  # interleave the two symbols, as a live feed would
    generated = time.perf_counter()
    # full speed: trades generated up front; paced: whole messages encoded up front (not timed)
    ready = dict(sim_batches(run, start_ns)) if rate is None else {}
    steps = encode_paced(publisher, run, start_ns, per_symbol, slice_size, batch) if rate else []
    generated = time.perf_counter() - generated
    report.send(("ready", generated))
    report.recv()  # go
    began_wall, began = time.time(), time.perf_counter()
    if rate is not None:
        for number, step in enumerate(steps):  # 2 symbols × slice_size trades per step
            await asyncio.sleep(max(0.0, began + number * slice_size * 2 / rate - time.perf_counter()))
            now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z").encode()
            await asyncio.gather(
                *(js.publish(subject, b"".join((before, now, after)), headers=headers)
                  for subject, headers, before, after in step)
            )  # fmt: skip
    else:
        for offset in range(0, per_symbol, slice_size):
            for symbol in ready:
                await publisher.publish_trades("sim", symbol, ready[symbol][offset : offset + slice_size])
    report.send(("published", began_wall, time.perf_counter() - began))
    await nc.close()


def publisher_process(  # noqa: PLR0917
    url: str, run: str, start_ns: int, rate: float | None, report: Connection, per_symbol: int, batch: int
) -> None:
    """The synthetic source in its own process, as in production where the source and the
    persistence consumer are separate tasks that could run in separate replicas."""
    asyncio.run(publish_all(url, run, start_ns, rate, report, per_symbol, batch))
