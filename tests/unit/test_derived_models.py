"""A model built at set-up is used only when its stamp says it was built from today's source by today's
recipe, and refused when the file no longer matches its stamp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import models.registry as registry


@pytest.fixture
def files_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HMTOCR_MODELS_DIR", str(tmp_path))
    return tmp_path


def _write(entry: registry.DerivedEntry, content: bytes, **stamp_changes: object) -> None:
    entry.path.write_bytes(content)
    stamp = registry.derived_stamp(entry, registry.sha256_of(entry.path))
    stamp.update(stamp_changes)
    entry.stamp_path.write_text(json.dumps(stamp))


def test_manifest_names_the_int8_detector_and_its_source() -> None:
    entry = registry.load_derived()["text_det_int8"]
    assert entry.source in registry.load_manifest()
    assert entry.file.endswith(".onnx")


def test_a_built_model_resolves(files_dir: Path) -> None:
    entry = registry.load_derived()["text_det_int8"]
    _write(entry, b"weights")
    assert registry.resolve_derived_path("text_det_int8") == files_dir / entry.file


def test_missing_or_stale_builds_are_not_used(files_dir: Path) -> None:
    entry = registry.load_derived()["text_det_int8"]
    assert registry.resolve_derived_path("text_det_int8") is None
    _write(entry, b"weights", source_sha256="0" * 64)
    assert registry.resolve_derived_path("text_det_int8") is None
    _write(entry, b"weights", recipe_version=entry.recipe_version - 1)
    assert registry.resolve_derived_path("text_det_int8") is None


def test_a_changed_file_is_refused(files_dir: Path) -> None:
    entry = registry.load_derived()["text_det_int8"]
    _write(entry, b"weights")
    entry.path.write_bytes(b"other weights")
    with pytest.raises(registry.ModelFileError, match="build stamp"):
        registry.resolve_derived_path("text_det_int8")
