"""Nothing read from a card is logged or written: a server with its own HOME, TMPDIR and state folder
answers requests carrying a known name, ID number and address (plain, failed, encrypted, large), then
its log and every file under those folders are searched for them. The log is JSON
(`HMTOCR_LOG_FORMAT=json`), one object per line, with the access line's fields as keys."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import running_server
from PIL import Image

from api import crypto
from api.auth import build_sign
from api.client import OcrClient, client_cipher
from benchmarks.synth import generate_sample
from engine.onnx_session import _create
from models.registry import models_dir

KEY, SECRET = "k-privacy", "s-privacy-secret"


def _needles(truth: dict[str, Any]) -> list[bytes]:
    """The personal values, as UTF-8 and as JSON would escape them."""
    fields = truth["fields"]
    values = [fields["name"], fields["idcard_number"], fields["address"], fields["address"][:6]]
    out = []
    for value in values:
        out.append(value.encode("utf-8"))
        out.append(json.dumps(value).strip('"').encode("ascii"))
    return out


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def privacy_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("privacy")
    home, state = tmp / "home", tmp / "state"
    home.mkdir()
    server_key, _ = crypto.generate_key_files(1, tmp / "pem", "server")
    client_key, client_pub = crypto.generate_key_files(1, tmp / "pem", "client")
    keys_file = tmp / "keys.json"
    entry = {"api_key": KEY, "api_secret": SECRET}
    entry["sm2"] = {"server_private_key": str(server_key), "client_public_key": str(client_pub)}  # type: ignore[assignment]
    keys_file.write_text(json.dumps({"keys": [entry]}), encoding="utf-8")
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "HMTOCR_MODELS_DIR": str(models_dir()),
        "HMTOCR_KEYS_FILE": str(keys_file),
        "HMTOCR_STATE_DB": str(state / "state.sqlite3"),
        "HMTOCR_LOG_FORMAT": "json",
        "HMTOCR_ENGINE": "hmt",
    }
    sample = generate_sample(seed=11, tier="clean", side=0)
    png = io.BytesIO()
    Image.open(io.BytesIO(sample.image_bytes)).save(png, "PNG")  # > 1 MiB: was spooled to disk
    statuses = []
    with running_server(tmp, env, log_name="server.jsonl") as (url, _, log_path):
        with OcrClient(url, KEY, SECRET) as client:
            statuses.append(client.recognize(sample.image_bytes, return_portrait=True).status)
            statuses.append(client.recognize(png.getvalue()).status)
        server_pub = (tmp / "pem" / "server.pub").read_bytes()
        cipher = client_cipher(1, client_key.read_bytes(), server_pub)
        with OcrClient(url, KEY, SECRET, cipher=cipher) as sealed:
            statuses.append(sealed.recognize(sample.image_bytes, encryption_type=1).status)
        wrong = {"sign": build_sign(KEY, "wrong"), "sign_version": "hmac_sha1"}
        files = {"image": ("a.jpg", sample.image_bytes, "image/jpeg")}
        statuses.append(httpx.post(url + "/faceid/v5/ocr_residence_permit_card", data=wrong, files=files).status_code)
        mine = httpx.post(url + "/faceid/v5/ocr_residence_permit_card", data={}, headers={"X-Request-Id": "trace-7"})
        statuses.append(mine.status_code)
    return {"tmp": tmp, "home": home, "state": state, "log": log_path, "sample": sample, "statuses": statuses}


def test_nothing_personal_is_logged_or_written(privacy_run: dict[str, Any]) -> None:
    assert privacy_run["statuses"] == [200, 200, 200, 403, 400]
    needles = _needles(privacy_run["sample"].truth)
    run = privacy_run
    searched = [run["log"], *_files_under(run["home"], run["state"], run["tmp"] / "tmp")]
    for path in searched:
        data = path.read_bytes()
        for needle in needles:
            assert needle not in data, f"{needle!r} found in {path}"


# mediapipe imports matplotlib.pyplot, which caches the machine's font list: nothing of a request.
KNOWN_CACHES = {"fontlist-v3.11.0.json"}


def test_only_the_state_db_is_written(privacy_run: dict[str, Any]) -> None:
    """No spooled upload and no telemetry (onnxruntime wrote onnxruntime.db and deviceid under ~/.cache and
    .ses under $TMPDIR): the state DB is the one file the service writes."""
    written = {p.name for p in _files_under(privacy_run["home"], privacy_run["tmp"] / "tmp")}
    assert written - KNOWN_CACHES == set(), written
    assert {p.name for p in _files_under(privacy_run["state"])} <= {
        "state.sqlite3",
        "state.sqlite3-wal",
        "state.sqlite3-shm",
    }


def test_json_log_lines(privacy_run: dict[str, Any]) -> None:
    text = privacy_run["log"].read_text(encoding="utf-8")
    # Lines not starting with "{" come from C++ libraries writing to stderr themselves (LiteRT's logging).
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert not [line for line in text.splitlines() if "api.access" in line and not line.startswith("{")]
    access = [line for line in lines if line["logger"] == "api.access" and line["path"].startswith("/faceid")]
    assert len(access) == 5
    for line in access:
        assert {"time", "level", "message", "request_id", "status", "error", "time_ms", "key", "stages"} <= set(line)
    assert [line["status"] for line in access] == [200, 200, 200, 403, 400]
    assert access[-1]["client_request_id"] == "trace-7"
    assert any(line["logger"].startswith("uvicorn") for line in lines)  # uvicorn's own lines too


def test_sessions_are_built_with_telemetry_off(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime as ort

    from engine.config import EngineConfig
    from models.registry import resolve_model_path

    calls: list[int] = []
    monkeypatch.setattr(ort, "disable_telemetry_events", lambda: calls.append(1))
    _create(resolve_model_path("text_det"), EngineConfig())
    assert calls
