"""In-process admission: per-key concurrency and the bounded engine queue.

Both refuse at once (403 CONCURRENCY_LIMIT_EXCEEDED) instead of letting requests pile up. They count
requests in this worker process; with `--workers N` each process applies the limits on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class LimitExceeded(Exception):
    """No slot free right now."""


class Slots:
    """A counter of at most `capacity` holders (None: unlimited); `hold()` refuses when full."""

    def __init__(self, capacity: int | None) -> None:
        self.capacity = capacity
        self._held = 0
        self._lock = threading.Lock()

    @property
    def held(self) -> int:
        return self._held

    def try_acquire(self) -> bool:
        with self._lock:
            if self.capacity is not None and self._held >= self.capacity:
                return False
            self._held += 1
            return True

    def release(self) -> None:
        with self._lock:
            if self._held <= 0:
                raise RuntimeError("release without acquire")
            self._held -= 1

    @contextmanager
    def hold(self) -> Iterator[None]:
        if not self.try_acquire():
            raise LimitExceeded
        try:
            yield
        finally:
            self.release()


class KeyConcurrency:
    """One `Slots` per api key, created on first use with that key's limit."""

    def __init__(self) -> None:
        self._slots: dict[str, Slots] = {}
        self._lock = threading.Lock()

    def slots(self, api_key: str, limit: int | None) -> Slots:
        with self._lock:
            s = self._slots.get(api_key)
            if s is None or s.capacity != limit:
                if s is not None and s.held:  # the limit changed while requests run: keep counting
                    s.capacity = limit
                else:
                    s = self._slots[api_key] = Slots(limit)
            return s
