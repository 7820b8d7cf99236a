"""Crash safety: `kill -9` under load, then a restart on the same state DB. Every call a client saw
counted is still counted, every single-use sign a client saw accepted is still refused on replay, the
quota still holds, and the database is intact."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

import httpx
from api_server import running_server

from api.auth import build_sign

KEY, SECRET = "k-crash", "s-crash-secret"
QUOTA = 100_000
ENDPOINT = "/faceid/v5/ocr_residence_permit_card"
COUNTED = "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"  # junk bytes: counted, then refused by the engine


def _post(client: httpx.Client, url: str, sign: str) -> httpx.Response:
    data = {"sign": sign, "sign_version": "hmac_sha1"}
    return client.post(url + ENDPOINT, data=data, files={"image": ("a.jpg", os.urandom(2048), "image/jpeg")})


def _load(url: str, stop: threading.Event, accepted: list[str], lock: threading.Lock) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            sign = build_sign(KEY, SECRET, single_use=True)
            try:
                response = _post(client, url, sign)
            except httpx.HTTPError:
                return  # the server died under us
            if response.status_code == 400 and response.json()["error"] == COUNTED:
                with lock:
                    accepted.append(sign)


def _env(tmp: Path, quota: int) -> dict[str, str]:
    keys_file = tmp / f"keys-{quota}.json"
    keys_file.write_text(json.dumps({"keys": [{"api_key": KEY, "api_secret": SECRET, "quota": quota}]}))
    return {"HMTOCR_KEYS_FILE": str(keys_file), "HMTOCR_STATE_DB": str(tmp / "state.sqlite3")}


def _used(state_db: Path) -> int:
    with sqlite3.connect(state_db) as db:
        row = db.execute("SELECT used FROM call_counts WHERE api_key = ?", (KEY,)).fetchone()
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    return int(row[0]) if row else 0


def test_kill_9_under_load_loses_no_count_and_no_used_sign(tmp_path: Path) -> None:
    accepted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    with running_server(tmp_path, _env(tmp_path, QUOTA), log_name="first.log") as (url, proc, _):
        threads = [threading.Thread(target=_load, args=(url, stop, accepted, lock)) for _ in range(4)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(accepted) < 60 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.kill()  # SIGKILL in the middle of the load
        proc.wait()
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert len(accepted) >= 60
    seen_by_clients = len(accepted)
    used = _used(tmp_path / "state.sqlite3")
    assert used >= seen_by_clients  # nothing a client saw counted was lost

    # Restart on the same file, with the quota set to what is used: every replay is refused, and the
    # next call is over the quota.
    restarted = running_server(tmp_path, _env(tmp_path, used), log_name="second.log")
    with restarted as (url, _, _), httpx.Client(timeout=10) as client:
        for sign in accepted:
            response = _post(client, url, sign)
            assert (response.status_code, response.json()["error"]) == (403, "AUTHENTICATION_ERROR")
        fresh = _post(client, url, build_sign(KEY, SECRET))
        assert (fresh.status_code, fresh.json()["error"]) == (403, "AUTHORIZATION_ERROR:Limit reached.")
    assert _used(tmp_path / "state.sqlite3") == used
