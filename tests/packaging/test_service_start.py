"""The service starts on its declared dependencies alone: no package of the bench, build, train or dev
extras is imported (or tried) at start-up, and without mediapipe (installed apart, see pyproject's `face`
extra) it still starts and finds portraits with the Haar cascade."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Top-level names of the extras' packages that the service itself has no use for.
BENCH_BUILD_DEV = (
    "skimage", "scipy", "psutil", "onnx", "torch", "pytest", "hypothesis", "schemathesis", "mypy", "ruff",
)
FACE = ("mediapipe", "matplotlib")

_SCRIPT = r"""
import importlib, importlib.abc, json, sys

blocked = set(sys.argv[1].split(","))
tried = []

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            tried.append(name)
            raise ImportError(f"blocked: {name}")
        return None

sys.meta_path.insert(0, Block())
from starlette.testclient import TestClient

create_app = importlib.import_module("api.app").create_app
with TestClient(create_app()) as client:
    health = client.get("/healthz")
print(json.dumps({"status": health.status_code, "tried": sorted(set(tried))}))
"""


def _start(blocked: tuple[str, ...], tmp_path: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "HMTOCR_API_KEYS": "startup-key:startup-secret",
        "HMTOCR_STATE_DB": str(tmp_path / "state.sqlite3"),
        "HMTOCR_ENGINE_THREADS": "1",
    }
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, ",".join(blocked)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
def test_service_starts_without_the_extras(tmp_path: Path) -> None:
    result = _start(BENCH_BUILD_DEV, tmp_path)
    assert result == {"status": 200, "tried": []}


@pytest.mark.slow
def test_service_starts_without_mediapipe(tmp_path: Path) -> None:
    result = _start(BENCH_BUILD_DEV + FACE, tmp_path)
    assert result["status"] == 200
    tried = {str(name).split(".")[0] for name in result["tried"]}  # type: ignore[attr-defined]
    assert tried <= {"mediapipe"}, tried
