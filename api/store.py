"""Embedded state that survives restarts: call counters per key and used single-use signs.

One SQLite file in WAL mode; one connection per store guarded by a lock (thread-safe), and a busy
timeout so that several `--workers` processes can share the file.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS call_counts (api_key TEXT PRIMARY KEY, used INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS used_signs (
    digest BLOB PRIMARY KEY, api_key TEXT NOT NULL, current_s INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS used_signs_current ON used_signs (current_s);
"""


class StateStore:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=10.0, check_same_thread=False, isolation_level=None)
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- quota ------------------------------------------------------------------------------------

    def try_consume(self, api_key: str, quota: int | None) -> bool:
        """Counts one call; False (and nothing counted) when `quota` calls were already made."""
        with self._lock:
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
                self._db.execute("ROLLBACK")
                raise

    def calls_used(self, api_key: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT used FROM call_counts WHERE api_key = ?", (api_key,)).fetchone()
        return int(row[0]) if row else 0

    # -- single-use signs -------------------------------------------------------------------------

    def seen_sign(self, api_key: str, raw: bytes, current_s: int) -> bool:
        """Records a single-use sign; True when it had been recorded before (a replay)."""
        digest = hashlib.sha256(api_key.encode("utf-8") + b"\0" + raw).digest()
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO used_signs (digest, api_key, current_s) VALUES (?, ?, ?)",
                (digest, api_key, current_s),
            )
            return cur.rowcount == 0

    def prune_signs(self, max_age_s: int, now_s: float | None = None) -> int:
        """Forgets single-use signs too old to be accepted anyway."""
        cutoff = int((time.time() if now_s is None else now_s) - max_age_s)
        with self._lock:
            return self._db.execute("DELETE FROM used_signs WHERE current_s < ?", (cutoff,)).rowcount
