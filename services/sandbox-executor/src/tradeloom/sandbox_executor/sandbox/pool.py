"""Single-use sandbox workers started ahead of time, so an execution does not wait for one to start.

Each uid slot is in exactly one place: free, being spawned (by a refill thread), held by a
ready worker, or in a run. A ready worker is a complete sandbox (namespaces, mounts, seccomp,
cgroups, rlimits, the unprivileged uid, the interpreter and the bootstrap loaded) blocked reading
its job on stdin; it has never run code. It runs exactly one job and is then killed with its
cgroups; the slot's uid goes to a fresh worker. Workers are never reused, so nothing of one
user's run can reach another's. Refilling runs on ``size`` long-lived threads (slots refill in
parallel when runs come back to back); long-lived on purpose: bwrap's ``--die-with-parent`` is
tied to the thread that forked it.
"""

from __future__ import annotations

import collections
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Generic, Protocol, TypeVar

log = logging.getLogger(__name__)


class Worker(Protocol):
    uid: int

    def alive(self) -> bool: ...


W = TypeVar("W", bound=Worker)


class WorkerPool(Generic[W]):
    """The uid slots and up to ``size`` ready workers; ``size`` 0 means every run starts cold."""

    def __init__(
        self,
        uids: list[int],
        size: int,
        spawn: Callable[[int], W],
        discard: Callable[[W], None],
    ) -> None:
        self.size = min(size, len(uids))
        self._spawn = spawn
        self._discard = discard
        self._free: collections.deque[int] = collections.deque(uids)
        self._ready: collections.deque[W] = collections.deque()
        self._spawning = 0
        self._closed = False
        self._cond = threading.Condition()
        self._todo: queue.Queue[int | None] = queue.Queue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the refill threads and fill the pool up to its size."""
        if self.size == 0 or self._threads:
            return
        for index in range(self.size):
            thread = threading.Thread(target=self._refill, name=f"sandbox-pool-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)
        with self._cond:
            while self._free and len(self._ready) + self._spawning < self.size:
                self._spawning += 1
                self._todo.put(self._free.popleft())

    def acquire(self) -> tuple[int, W | None]:
        """A ready worker (with its uid), else a free uid to start one cold; blocks while neither."""
        while True:
            with self._cond:
                while not self._ready and not self._free:
                    self._cond.wait()
                if not self._ready:
                    return self._free.popleft(), None
                worker = self._ready.popleft()
                if worker.alive():
                    return worker.uid, worker
            self._discard(worker)  # it died while idle: killed and reaped before its uid is reused
            self.release(worker.uid)

    def release(self, uid: int) -> None:
        """A run (or a dead worker) gave ``uid`` back: start a fresh worker on it, or free it."""
        with self._cond:
            if not self._closed and self._threads and len(self._ready) + self._spawning < self.size:
                self._spawning += 1
                self._todo.put(uid)
            else:
                self._free.append(uid)
                self._cond.notify_all()

    def counts(self) -> dict[str, int]:
        with self._cond:
            return {"free": len(self._free), "ready": len(self._ready), "spawning": self._spawning}

    def ready(self) -> list[W]:
        """The ready workers now (for leak checks that must not count them)."""
        with self._cond:
            return list(self._ready)

    def wait_settled(self, timeout_s: float) -> bool:
        """Wait until no worker is being spawned and the pool is full (or has no free uid left)."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while self._spawning or (
                self._threads and not self._closed and self._free and len(self._ready) < self.size
            ):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def close(self) -> None:
        """Stop refilling and kill every ready worker."""
        with self._cond:
            self._closed = True
            workers = list(self._ready)
            self._ready.clear()
        for _ in self._threads:
            self._todo.put(None)
        for thread in self._threads:
            thread.join(timeout=30)
        for worker in workers:
            self._discard(worker)
            self.release(worker.uid)

    def _refill(self) -> None:
        while (uid := self._todo.get()) is not None:
            worker: W | None = None
            try:
                worker = self._spawn(uid)
            except Exception:  # the next run then starts cold and reports a broken sandbox itself
                log.exception("cannot start a ready sandbox worker")
            with self._cond:
                if worker is not None and not self._closed:
                    self._spawning -= 1
                    self._ready.append(worker)
                    self._cond.notify_all()
                    continue
            if worker is not None:
                self._discard(worker)  # before its uid is free again
            with self._cond:
                self._spawning -= 1
                self._free.append(uid)
                self._cond.notify_all()
