"""`hmtocr recognize`: one wire answer per image, bad images as error lines, resumable runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api.batch import done_paths, expand_paths
from api.cli import main
from benchmarks.synth import generate_sample


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scans")
    for seed, side in ((80_001, 0), (80_002, 1)):
        sample = generate_sample(seed, "clean", side=side)
        (folder / f"card{seed}.jpg").write_bytes(sample.image_bytes)
        (folder / f"card{seed}.json").write_text(json.dumps(sample.truth, ensure_ascii=False), encoding="utf-8")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    return folder


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_folders_and_globs_expand_to_images_once(images: Path) -> None:
    found = expand_paths([str(images), str(images / "*.jpg")])
    assert sorted(p.name for p in found) == ["broken.jpg", "card80001.jpg", "card80002.jpg"]


def test_recognize_writes_wire_answers_and_resumes(images: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.jsonl"
    assert main(["recognize", str(images), "--out", str(out), "--workers", "2", "--no-progress"]) == 0
    lines = {Path(line["path"]).name: line for line in _lines(out)}
    assert set(lines) == {"broken.jpg", "card80001.jpg", "card80002.jpg"}

    broken = lines["broken.jpg"]
    assert broken["status"] == 400
    assert broken["response"]["error"] == "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"
    for name in ("card80001.jpg", "card80002.jpg"):
        truth = json.loads((images / name.replace(".jpg", ".json")).read_text(encoding="utf-8"))
        answer = lines[name]["response"]
        assert lines[name]["status"] == 200
        assert answer["side"] == truth["side"]
        assert answer["request_id"].split(",")[0].isdigit()
        key = "idcard_number" if truth["side"] == 0 else "eep_number"
        assert answer[key]["result"] == truth["fields"][key]

    # A second run has nothing left to do.
    assert main(["recognize", str(images), "--out", str(out), "--no-progress"]) == 0
    assert len(_lines(out)) == 3

    # A run killed mid-line: the cut line is dropped and only that image is read again.
    kept = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join(kept[:2]) + "\n" + kept[2][: len(kept[2]) // 2], encoding="utf-8")
    assert len(done_paths(out)) == 2
    assert main(["recognize", str(images), "--out", str(out), "--no-progress"]) == 0
    assert sorted(Path(line["path"]).name for line in _lines(out)) == ["broken.jpg", "card80001.jpg", "card80002.jpg"]
