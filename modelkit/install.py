"""`hmtocr models install`: fills `models_dir()` with every file the manifest names, and verifies them all.

Runs once per machine or image, never at run time. The BlazeFace model ships only in the mediapipe 0.10.21
wheel (later releases carry no face model) and the place names only in the cpca wheel, so those wheels are
fetched from the package registry with pip and the one file is taken out of each. The int8 text detector is
then built from the float one (`modelkit/quantize.py`) where the `build` extra (onnx) is installed; without
it the engine reads with the float detector and says so.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from models.registry import (
    INSTALL_HINT,
    ModelEntry,
    ModelFileError,
    load_derived,
    load_manifest,
    models_dir,
    resolve_derived_path,
    resolve_model_path,
    sha256_of,
)

# What the int8 build imports beyond the service: the quantizer, and the calibration photos' faces.
BUILD_NEEDS = ("onnx", "skimage", "matplotlib")


def _extract_from_wheel(entry: ModelEntry, target_dir: Path) -> None:
    target = target_dir / entry.file
    if target.is_file() and sha256_of(target) == entry.sha256:
        return
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "-d", tmp, f"{entry.source_package}=={entry.source_version}"],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        partial = target.with_suffix(target.suffix + ".partial")
        with zipfile.ZipFile(wheel) as zf:
            partial.write_bytes(zf.read(entry.source_path))
    if sha256_of(partial) != entry.sha256:
        partial.unlink()
        raise SystemExit(f"{entry.file}: checksum mismatch after extraction from {wheel.name}")
    # renamed into place whole: a service starting meanwhile never sees half a file
    partial.replace(target)


def verify(*, derived: bool = True) -> int:
    """Prints where every model file is; 1 when any is missing, stale or changed."""
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
            print(f"ERR {name:18s} not built: {INSTALL_HINT}", file=sys.stderr)
        else:
            print(f"ok  {name:18s} {path}")
    return 1 if failures else 0


def _build_derived() -> bool:
    """Builds what is missing; False when the build tools are not installed."""
    missing = [name for name in BUILD_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"int8 text detector not built: it needs the `build` extra (pip install 'hmt-ocr[build]'; missing "
            f"{', '.join(missing)}); the engine reads with the float detector, about 2x slower on CPU",
            flush=True,
        )
        return False
    from modelkit.quantize import build

    for derived in load_derived().values():
        if resolve_derived_path(derived.name) is None:
            print(f"building {derived.name} from {derived.source} (about a minute, once)", flush=True)
            try:
                build(derived)
            except OSError as exc:
                # the calibration photos are rendered with the system's CJK fonts
                raise SystemExit(
                    f"building {derived.name} failed ({exc}): it renders calibration photos with the CJK fonts "
                    "(Debian: fonts-noto-cjk fonts-wqy-zenhei fonts-wqy-microhei fonts-arphic-ukai "
                    "fonts-arphic-uming fonts-dejavu-core), or pass --skip-derived"
                ) from exc
    return True


def install(*, skip_derived: bool = False) -> int:
    target_dir = models_dir()
    print(f"models folder: {target_dir}", flush=True)
    for entry in load_manifest().values():
        if entry.source_kind == "wheel":
            _extract_from_wheel(entry, target_dir)
    # The CUDA image runs the float detector (int8 gains nothing on a GPU) and has no fonts to render
    # calibration photos with: it skips the build, and a CPU fallback there says so in its log.
    built = not skip_derived and _build_derived()
    if importlib.util.find_spec("mediapipe") is None:
        print(
            "note: mediapipe is not installed, so portraits are found with OpenCV's Haar cascade; for BlazeFace "
            "install the `face` extra and then `pip install --no-deps mediapipe==1.2.2` (it declares "
            "opencv-contrib-python, a second cv2 beside opencv-python-headless)",
            flush=True,
        )
    return verify(derived=built)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    return install(skip_derived="--skip-derived" in args)


if __name__ == "__main__":
    raise SystemExit(main())
