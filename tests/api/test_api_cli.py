"""`hmtocr serve` never serves an open endpoint; `hmtocr call` talks to the session's server."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from api_server import REPO, Server, free_port


def test_serve_without_keys_generates_a_private_key_file(tmp_path: Path) -> None:
    keys_file = tmp_path / "cfg" / "keys.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HMTOCR_")}
    env.update(
        {
            "HMTOCR_GENERATED_KEYS_FILE": str(keys_file),
            "HMTOCR_STATE_DB": str(tmp_path / "state.sqlite3"),
            "HMTOCR_ENGINE": "no-such-engine",  # start-up fails after the keys step: no model load
        }
    )
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(free_port())],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0  # the unknown engine stops it
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    (entry,) = json.loads(keys_file.read_text())["keys"]
    assert str(keys_file) in done.stdout and entry["api_key"] in done.stdout
    assert entry["api_secret"] not in done.stdout + done.stderr


def run_call(server: Server, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    image = tmp_path / "random.bin"
    image.write_bytes(os.urandom(2048))
    main = server.keys["main"]
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "api.cli",
            "call",
            str(image),
            "--url",
            server.url,
            "--key",
            main.api_key,
            "--secret",
            main.api_secret,
            *extra,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_call_prints_the_answer(server: Server, tmp_path: Path) -> None:
    done = run_call(server, tmp_path, "--return-portrait")
    assert done.returncode == 1
    assert json.loads(done.stdout)["error"] == "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"


def test_call_with_sm2(server: Server, tmp_path: Path) -> None:
    client_private, server_public = server.client_pems[1]
    (tmp_path / "c.key").write_bytes(client_private)
    (tmp_path / "s.pub").write_bytes(server_public)
    done = run_call(
        server,
        tmp_path,
        "--encryption-type",
        "1",
        "--client-private-key",
        str(tmp_path / "c.key"),
        "--server-public-key",
        str(tmp_path / "s.pub"),
    )
    # decrypted fine on the server, then the engine refused the random bytes
    assert json.loads(done.stdout)["error"] == "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"
