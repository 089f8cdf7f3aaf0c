"""WorkerPool's slot accounting with fake workers (the real sandbox is in test_sandbox_pool.py)."""

from __future__ import annotations

from dataclasses import dataclass

from tradeloom.sandbox_executor.sandbox.pool import WorkerPool


@dataclass
class FakeWorker:
    uid: int
    serial: int
    living: bool = True

    def alive(self) -> bool:
        return self.living


class Spawner:
    def __init__(self, failing: set[int] | None = None) -> None:
        self.spawned: list[FakeWorker] = []
        self.discarded: list[FakeWorker] = []
        self.failing = failing or set()

    def spawn(self, uid: int) -> FakeWorker:
        if uid in self.failing:
            raise OSError("cannot start")
        worker = FakeWorker(uid, len(self.spawned))
        self.spawned.append(worker)
        return worker

    def discard(self, worker: FakeWorker) -> None:
        self.discarded.append(worker)


def test_runs_take_ready_workers_and_each_is_replaced_by_a_new_one() -> None:
    spawner = Spawner()
    pool = WorkerPool([7, 8], 2, spawner.spawn, spawner.discard)
    assert pool.acquire() == (7, None)  # not started: a free uid, the caller starts cold
    pool.release(7)
    pool.start()
    assert pool.wait_settled(10) and pool.counts() == {"free": 0, "ready": 2, "spawning": 0}
    uid, worker = pool.acquire()
    assert worker is not None and worker.uid == uid
    pool.release(uid)
    assert pool.wait_settled(10) and pool.counts()["ready"] == 2
    assert worker not in pool.ready() and len(spawner.spawned) == 3  # single use: a fresh one
    pool.close()
    assert pool.counts() == {"free": 2, "ready": 0, "spawning": 0}
    assert len(spawner.discarded) == 2  # the two idle workers were killed


def test_a_dead_idle_worker_is_discarded_and_its_slot_refilled() -> None:
    spawner = Spawner()
    pool = WorkerPool([7], 1, spawner.spawn, spawner.discard)
    pool.start()
    assert pool.wait_settled(10)
    pool.ready()[0].living = False
    assert pool.wait_settled(10)
    uid, worker = pool.acquire()  # the dead one is skipped; its uid is refilled, then handed out
    assert uid == 7 and worker is not None and worker.alive() and spawner.discarded[0].serial == 0
    pool.release(uid)
    pool.close()


def test_a_failing_spawn_frees_the_uid_for_a_cold_start() -> None:
    spawner = Spawner(failing={7})
    pool = WorkerPool([7], 1, spawner.spawn, spawner.discard)
    pool.start()
    assert pool.acquire() == (7, None)
    pool.close()
    assert pool.counts() == {"free": 0, "ready": 0, "spawning": 0}  # the caller still holds 7
