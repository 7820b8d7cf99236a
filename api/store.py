"""Embedded state that survives restarts: call counters per key and used single-use signs.

One SQLite file in WAL mode; one connection per store guarded by a lock (thread-safe), and a busy
timeout so that several `--workers` processes can share the file.

Any SQLite failure (a file or folder made read-only, a full disk) is raised as `StateUnavailable`,
logged once when it starts and once when it ends, so that a store gone bad writes one clear line,
not one traceback per request.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS call_counts (api_key TEXT PRIMARY KEY, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS used_signs (
    digest BLOB PRIMARY KEY, api_key TEXT NOT NULL, current_s INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS used_signs_current ON used_signs (current_s);
"""


class StateUnavailable(Exception):
    """The state database cannot be read or written."""


class StateStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._failing = False
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._db.execute("BEGIN IMMEDIATE")  # a folder or file we can read but not write fails here
            self._db.execute("ROLLBACK")
        except (OSError, sqlite3.Error) as exc:
            raise StateUnavailable(
                f"state database {self.path} cannot be opened for writing ({_reason(exc)}); "
                "set HMTOCR_STATE_DB to a writable file"
            ) from None

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Holds the lock; turns SQLite's errors into `StateUnavailable`, logged when it starts and ends."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                if not self._failing:
                    self._failing = True
                    log.error(
                        "state database %s cannot be written (%s): calls cannot be counted and single-use "
                        "signs cannot be recorded until it is writable again",
                        self.path,
                        _reason(exc),
                    )
                raise StateUnavailable(_reason(exc)) from None
            if self._failing:
                self._failing = False
                log.warning("state database %s is writable again", self.path)

    def _run(self, work: Callable[[], T]) -> T:
        with self._guard():
            return work()

    # -- quota ------------------------------------------------------------------------------------

    def try_consume(self, api_key: str, quota: int | None) -> bool:
        """Counts one call; False (and nothing counted) when `quota` calls were already made."""
        return self._run(lambda: self._consume(api_key, quota))

    def _consume(self, api_key: str, quota: int | None) -> bool:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute("SELECT used FROM call_counts WHERE api_key = ?", (api_key,)).fetchone()
            used = int(row[0]) if row else 0
            if quota is not None and used >= quota:
                self._db.execute("ROLLBACK")
                return False
            self._db.execute(
                "INSERT INTO call_counts (api_key, used) VALUES (?, 1) "
                "ON CONFLICT(api_key) DO UPDATE SET used = used + 1",
                (api_key,),
            )
            self._db.execute("COMMIT")
            return True
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def calls_used(self, api_key: str) -> int:
        row = self._run(
            lambda: self._db.execute("SELECT used FROM call_counts WHERE api_key = ?", (api_key,)).fetchone()
        )
        return int(row[0]) if row else 0

    # -- single-use signs -------------------------------------------------------------------------

    def seen_sign(self, api_key: str, raw: bytes, current_s: int) -> bool:
        """Records a single-use sign; True when it had been recorded before (a replay)."""
        digest = hashlib.sha256(api_key.encode("utf-8") + b"\0" + raw).digest()
        cur = self._run(
            lambda: self._db.execute(
                "INSERT OR IGNORE INTO used_signs (digest, api_key, current_s) VALUES (?, ?, ?)",
                (digest, api_key, current_s),
            )
        )
        return cur.rowcount == 0

    def prune_signs(self, max_age_s: int, now_s: float | None = None) -> int:
        """Forgets single-use signs too old to be accepted anyway."""
        cutoff = int((time.time() if now_s is None else now_s) - max_age_s)
        return self._run(lambda: self._db.execute("DELETE FROM used_signs WHERE current_s < ?", (cutoff,)).rowcount)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
