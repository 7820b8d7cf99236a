"""The state database gone bad: read-only while serving (one log line, vendor errors, keys without a
quota still served) and unwritable at start-up (one line, exit status 2, no traceback)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from api_server import REPO
from test_api_form import SizeEngine
from test_api_inprocess import ENDPOINT, run_with_client

from api.app import Service
from api.auth import build_sign

FILES = {"image": ("a.jpg", b"\xff\xd8x", "image/jpeg")}
KEYS = "free:s1,capped:s2"


def _form(key: str, secret: str, *, single_use: bool = False) -> dict[str, str]:
    return {"sign": build_sign(key, secret, single_use=single_use), "sign_version": "hmac_sha1"}


def test_a_state_db_turned_read_only_degrades_and_logs_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    engine = SizeEngine()
    answers: list[tuple[int, str]] = []

    async def body(client: httpx.AsyncClient, service: Service) -> httpx.Response:
        service.keys["capped"] = replace(service.keys["capped"], quota=100)
        # What SQLite says once the file, or its folder, is made read-only under a running server.
        service.store._db.execute("PRAGMA query_only = ON")
        cases = [
            _form("capped", "s2"),  # a quota that cannot be counted
            _form("capped", "s2"),
            _form("free", "s1", single_use=True),  # a single-use sign that cannot be recorded
            _form("free", "s1"),  # no quota: served, uncounted
            _form("free", "wrong"),  # authentication answers as ever
        ]
        response = None
        for data in cases:
            response = await client.post(ENDPOINT, data=data, files=FILES)
            answers.append((response.status_code, response.json()["error"]))
        assert response is not None
        return response

    with caplog.at_level(logging.INFO):
        run_with_client(tmp_path, body, engine=engine, api_keys=KEYS)
    assert answers == [
        (500, "INTERNAL_ERROR"),
        (500, "INTERNAL_ERROR"),
        (500, "INTERNAL_ERROR"),
        (400, "ID_CARD_NOT_FOUND"),
        (403, "AUTHENTICATION_ERROR"),
    ]
    assert engine.sizes == [3]  # only the key without a quota reached the engine
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "cannot be written" in errors[0].getMessage(), [r.getMessage() for r in errors]
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("where", ["under-a-file", "read-only-fs"])
def test_an_unwritable_state_folder_stops_serve_with_one_line(tmp_path: Path, where: str) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    state_db = blocker / "state.sqlite3" if where == "under-a-file" else Path("/proc/hmtocr-state/state.sqlite3")
    env = {
        **os.environ,
        "HMTOCR_API_KEYS": "k:s",
        "HMTOCR_ENGINE": "baseline",
        "HMTOCR_STATE_DB": str(state_db),
    }
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode == 2, output
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if "state database" in line]
    assert len(lines) == 1 and lines[0].startswith("hmtocr serve: state database") and "HMTOCR_STATE_DB" in lines[0]
