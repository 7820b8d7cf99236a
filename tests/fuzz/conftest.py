"""The fuzzing suite's live server: `hmtocr serve` on a loopback port with one key (tiny engine load:
fuzzed images fail at decode)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
KEY, SECRET = "k-fuzz", "s-fuzz-secret"


@pytest.fixture(scope="session")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("fuzz-server")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "HMTOCR_API_KEYS": f"{KEY}:{SECRET}",
        "HMTOCR_KEYS_FILE": "",
        "HMTOCR_STATE_DB": str(tmp / "state.sqlite3"),
        "HMTOCR_ENGINE_THREADS": "2",
        "HMTOCR_QUEUE_SIZE": "64",
    }
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start:\n{log_path.read_text(errors='replace')[-3000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield url
        assert proc.poll() is None, "the server died while being fuzzed"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
