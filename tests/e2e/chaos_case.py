"""The short chaos case of ``make test`` (issue 17, "Faults"; the long runs are bench/bench_chaos.py):
two users stream 150 market orders (75 each, 4 at a time) through the gateway while order-router
is killed -9 and started again; every submission is retried with its ``client_order_id`` until
answered, so a request cut by the kill is sent again. Then the exactly-once audit of
tests/e2e/chaos_kit.py: every client id answered 201 exists exactly once, every fill exactly once,
each order's filled quantity equals its fills, and balances and risk-monitor's position equal a
fold of the fills.
"""

from __future__ import annotations

import asyncio
import itertools

import httpx

from tests.e2e.chaos_kit import Audit, User, audit, sign_up, submit
from tests.e2e.conftest import Stack
from tradeloom.shared.testing.polling import eventually

ORDERS_PER_USER = 75
SENDERS_PER_USER = 4  # concurrent submissions per user
KILL_AFTER = 40  # answered orders (both users) before the kill
WAIT_S = 120.0  # a deadline for a loaded CI box, not the expected time


async def _send(http: httpx.AsyncClient, user: User, sides: itertools.cycle[str], left: list[int]) -> None:
    while left[0] > 0:
        left[0] -= 1
        await submit(http, user, next(sides))


def _answered(users: list[User]) -> int:
    return sum(len(u.accepted) + u.refused + len(u.unanswered) for u in users)


async def order_router_kill(stack: Stack) -> tuple[list[User], list[Audit]]:
    """Run the case; the users (what each was answered) and each one's audit once settled (or, at
    the deadline, the last one)."""
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=30) as http:
        users = [await sign_up(http, f"chaos{i}") for i in range(2)]
        senders = []
        for user in users:
            sides, left = itertools.cycle(("buy", "sell")), [ORDERS_PER_USER]
            senders += [asyncio.create_task(_send(http, user, sides, left)) for _ in range(SENDERS_PER_USER)]
        await eventually(
            lambda: _answered(users) >= KILL_AFTER, "orders answered before the kill", timeout=WAIT_S
        )
        router = stack.processes["order-router"]
        router.kill()
        await asyncio.to_thread(router.wait, 10)
        stack.start("order-router", stack.logs["order-router"].parent)
        await asyncio.gather(*senders)
        deadline = asyncio.get_running_loop().time() + WAIT_S
        while True:  # polled until every book agrees and no order is open (or the deadline)
            audits = [await audit(http, user) for user in users]
            if all(a.clean and not a.open_orders for a in audits):
                return users, audits
            if asyncio.get_running_loop().time() > deadline:
                return users, audits  # the caller's asserts say what disagrees
            await asyncio.sleep(0.5)
