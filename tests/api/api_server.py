"""The `server` fixture (re-exported by conftest.py): one real server process per test session
(`hmtocr serve`, the real `hmt` engine), configured with a keys file
whose keys have tiny limits and encryption keys."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api import crypto

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class Key:
    api_key: str
    api_secret: str


@dataclass(frozen=True)
class Server:
    url: str
    endpoint: str
    pid: int
    log_path: Path
    keys: dict[str, Key]
    # client side of the encryption: (client private key PEM, server public key PEM) per type
    client_pems: dict[int, tuple[bytes, bytes]]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _key_pair_files(directory: Path, encryption_type: int) -> dict[str, Path]:
    server_key, server_pub = crypto.generate_key_files(encryption_type, directory, f"server-{encryption_type}")
    client_key, client_pub = crypto.generate_key_files(encryption_type, directory, f"client-{encryption_type}")
    return {"server_key": server_key, "server_pub": server_pub, "client_key": client_key, "client_pub": client_pub}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("server")
    pairs = {t: _key_pair_files(tmp / "pem", t) for t in (1, 2)}
    keys = {
        "main": Key("k-main", "s-main-secret"),
        "plain": Key("k-plain", "s-plain-secret"),
        "quota": Key("k-quota", "s-quota-secret"),
        "conc": Key("k-conc", "s-conc-secret"),
        "disabled": Key("k-disabled", "s-disabled-secret"),
    }

    def cipher(t: int) -> dict[str, str]:
        return {"server_private_key": str(pairs[t]["server_key"]), "client_public_key": str(pairs[t]["client_pub"])}

    entries = [
        {"api_key": keys["main"].api_key, "api_secret": keys["main"].api_secret, "sm2": cipher(1), "rsa": cipher(2)},
        {"api_key": keys["plain"].api_key, "api_secret": keys["plain"].api_secret},
        {"api_key": keys["quota"].api_key, "api_secret": keys["quota"].api_secret, "quota": 1},
        {"api_key": keys["conc"].api_key, "api_secret": keys["conc"].api_secret, "concurrency": 0},
        {"api_key": keys["disabled"].api_key, "api_secret": keys["disabled"].api_secret, "enabled": False},
    ]
    keys_file = tmp / "keys.json"
    keys_file.write_text(json.dumps({"keys": entries}), encoding="utf-8")
    env = {
        "HMTOCR_ENGINE": os.environ.get("HMTOCR_TEST_ENGINE", "hmt"),
        "HMTOCR_KEYS_FILE": str(keys_file),
        "HMTOCR_STATE_DB": str(tmp / "state.sqlite3"),
        "HMTOCR_GENERATED_KEYS_FILE": str(tmp / "generated-keys.json"),
        "HMTOCR_QUEUE_SIZE": "16",
    }
    with running_server(tmp, env) as (url, proc, log_path):
        yield Server(
            url=url,
            endpoint=url + "/faceid/v5/ocr_residence_permit_card",
            pid=proc.pid,
            log_path=log_path,
            keys=keys,
            client_pems={t: (pairs[t]["client_key"].read_bytes(), pairs[t]["server_pub"].read_bytes()) for t in (1, 2)},
        )


# Short limits, so the tests of slow and stalled clients take seconds.
TEST_TIMEOUTS = {
    "HMTOCR_HEADER_TIMEOUT_S": "2",
    "HMTOCR_BODY_IDLE_TIMEOUT_S": "2",
    "HMTOCR_BODY_TIMEOUT_S": "8",
}


@contextmanager
def running_server(
    tmp: Path, env_extra: dict[str, str], *, log_name: str = "server.log"
) -> Iterator[tuple[str, subprocess.Popen[bytes], Path]]:
    """`hmtocr serve` in a child process on a free loopback port (the production path: our protocol and
    limits); yields (url, process, log file) once /healthz answers, and stops it after."""
    port = free_port()
    env = {
        **os.environ,
        "HMTOCR_API_KEYS": "",
        "HMTOCR_ENGINE_THREADS": "2",
        "TMPDIR": str(tmp / "tmp"),
        **TEST_TIMEOUTS,
        **env_extra,
    }
    (tmp / "tmp").mkdir(exist_ok=True)
    log_path = tmp / log_name
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "--log-level", "INFO", "serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, proc, log_path)
        yield url, proc, log_path
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"server exited ({proc.returncode}):\n{log_path.read_text(errors='replace')[-4000:]}")
        try:
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"server not ready:\n{log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.3)
