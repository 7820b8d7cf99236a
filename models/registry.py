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


def main() -> int:
    """`python -m models.registry`: verify every model file and print where it is."""
    failures = 0
    for name in load_manifest():
        try:
            print(f"ok  {name:18s} {resolve_model_path(name)}")
        except ModelFileError as exc:
            failures += 1
            print(f"ERR {name:18s} {exc}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
