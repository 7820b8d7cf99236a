"""Locates model files named in `manifest.json` and verifies their SHA-256. Never downloads."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("manifest.json")
# Files taken out of wheels at `make setup` time live here (git-ignored).
EXTRACTED_DIR = Path(__file__).with_name("files")


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
    """A model built at `make setup` from a manifest model (no weights of its own are fetched)."""

    name: str
    file: str
    source: str  # the manifest model it is built from
    recipe: str
    recipe_version: int

    @property
    def path(self) -> Path:
        return EXTRACTED_DIR / self.file

    @property
    def stamp_path(self) -> Path:
        return EXTRACTED_DIR / (self.file + ".json")


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
    recipe: `make setup` builds it again). A file that no longer matches its own stamp raises."""
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
    path = EXTRACTED_DIR / entry.file
    return path if path.is_file() else None


@cache
def resolve_model_path(name: str) -> Path:
    """Path of a verified model file; raises `ModelFileError` with the fix when it is not there."""
    entry = load_manifest()[name]
    path = _locate(entry)
    if path is None:
        raise ModelFileError(
            f"model {name!r} ({entry.file}) not found; it comes from {entry.source_package}=="
            f"{entry.source_version}: run `make setup`"
        )
    actual = sha256_of(path)
    if actual != entry.sha256:
        raise ModelFileError(f"model {name!r} at {path} has sha256 {actual}, manifest says {entry.sha256}")
    return path


def main(derived: bool = True) -> int:
    """`python -m models.registry`: verify every model file and print where it is."""
    failures = 0
    for name in load_manifest():
        try:
            print(f"ok  {name:18s} {resolve_model_path(name)}")
        except ModelFileError as exc:
            failures += 1
            print(f"ERR {name:18s} {exc}", file=sys.stderr)
    for name in load_derived() if derived else ():
        try:
            path = resolve_derived_path(name)
        except ModelFileError as exc:
            failures += 1
            print(f"ERR {name:18s} {exc}", file=sys.stderr)
            continue
        if path is None:
            failures += 1
            print(f"ERR {name:18s} not built: run `make setup`", file=sys.stderr)
        else:
            print(f"ok  {name:18s} {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
