"""`bench accuracy` end to end on a tiny hand-made labelled folder with stand-in engines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

import api.engines
from benchmarks import cli as bench_cli
from benchmarks.accuracy import evaluate, handle, load_dataset
from benchmarks.runners import InProcessRunner
from engine.config import EngineConfig
from engine.errors import CardNotFoundError
from engine.types import CardResult, FieldResult, RecognizeOptions, ResultCode, Side

QUAD = ((10.0, 10.0), (866.0, 10.0), (866.0, 550.0), (10.0, 550.0))
FRONT = {"name": "陈美玲", "idcard_number": "830000199706020042"}


def write_set(root: Path) -> Path:
    """Three images: a front, a negative, a front that makes the stand-in engine crash."""
    items = {
        "00000": {
            "tier": "clean",
            "kind": "card",
            "side": 0,
            "fields": FRONT,
            "card_quad_xy": [list(p) for p in QUAD],
            "completeness": 0,
            "face_present": False,
            "expected_error": None,
            "injected_logic_errors": [],
        },
        "00001": {
            "tier": "photo",
            "kind": "negative",
            "side": None,
            "fields": {},
            "card_quad_xy": None,
            "completeness": None,
            "expected_error": "ID_CARD_NOT_FOUND",
            "injected_logic_errors": [],
        },
        "00002": {
            "tier": "photo",
            "kind": "card",
            "side": 0,
            "fields": FRONT,
            "card_quad_xy": [list(p) for p in QUAD],
            "completeness": 0,
            "face_present": False,
            "expected_error": None,
            "injected_logic_errors": [],
        },
    }
    for stem, truth in items.items():
        (root / f"{stem}.jpg").write_bytes(stem.encode())  # the stand-in engine reads the stem
        (root / f"{stem}.json").write_text(json.dumps(truth, ensure_ascii=False), encoding="utf-8")
    (root / "stray.jpg").write_bytes(b"no truth beside me")
    return root


class StandInEngine:
    def __init__(self, name: str, wrong_name: bool) -> None:
        self._name, self._wrong = name, wrong_name

    @property
    def name(self) -> str:
        return self._name

    def recognize(self, image_bytes: bytes, options: RecognizeOptions) -> CardResult:
        if image_bytes == b"00001":
            raise CardNotFoundError("negative")
        if image_bytes == b"00002":
            raise RuntimeError("boom")
        name = "陈美" if self._wrong else FRONT["name"]
        fields = (FieldResult("name", name, 0.9, QUAD), FieldResult("idcard_number", FRONT["idcard_number"], 0.9))
        return CardResult(Side.FRONT, fields, QUAD, 0, ResultCode.OK)


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    def build(name: str = "hmt", config: EngineConfig | None = None) -> StandInEngine:
        return StandInEngine(name, wrong_name=(name == "baseline"))

    monkeypatch.setattr(api.engines, "build_engine", build)


def test_load_dataset_skips_images_without_truth(tmp_path: Path) -> None:
    items = load_dataset(write_set(tmp_path))
    assert [i.path.name for i in items] == ["00000.jpg", "00001.jpg", "00002.jpg"]
    assert len(load_dataset(tmp_path, limit=2)) == 2


def test_evaluate_two_engines(tmp_path: Path, stand_in: None) -> None:
    images = load_dataset(write_set(tmp_path))
    report = evaluate([InProcessRunner("hmt"), InProcessRunner("baseline")], images, workers=2)
    hmt = report["engines"]["hmt"]["scores"]["overall"]
    base = report["engines"]["baseline"]["scores"]["overall"]
    assert hmt["fields"]["name"] == {"rate": 0.5, "hits": 1, "total": 2}
    assert base["fields"]["name"]["hits"] == 0
    assert hmt["negatives_rejected"]["hits"] == 1
    assert hmt["failures"] == 1 and hmt["failure_kinds"] == {"crash": 1}
    assert hmt["rect_within_2pct"] == {"rate": 0.5, "hits": 1, "total": 2}
    assert report["engines"]["hmt"]["scores"]["tiers"]["clean"]["all_fields_correct"]["rate"] == 1.0
    per_image = report["engines"]["baseline"]["per_image"]
    assert per_image[0]["wrong_fields"] == ["name"]
    assert per_image[2]["failure"].startswith("crash")


def test_cli_writes_json_and_markdown(tmp_path: Path, stand_in: None, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "set").mkdir()
    data = write_set(tmp_path / "set")
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "bench",
            "accuracy",
            "--data",
            str(data),
            "--engine",
            "hmt",
            "--engine",
            "baseline",
            "--json",
            str(tmp_path / "r.json"),
            "--markdown",
            str(tmp_path / "r.md"),
            "--workers",
            "2",
        ]
    )
    assert args.handler is not None
    assert handle(args) == 0
    out = capsys.readouterr().out
    assert "| figure | hmt | baseline |" in out
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(report["engines"]) == {"hmt", "baseline"}
    assert report["machine"]["logical_cores"] >= 1
    assert "onnxruntime" in report["machine"]["libraries"]
    assert (tmp_path / "r.md").read_text(encoding="utf-8").startswith("## Accuracy: overall")


def test_speed_parser_defaults() -> None:
    parser = argparse.ArgumentParser()
    bench_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["bench", "speed", "--http"])
    assert args.sizes == [800, 1600, 3000] and args.concurrency == [1, 2, 4] and args.http


def test_photos_the_baseline_reads_whole_and_hmt_does_not_are_listed() -> None:
    from benchmarks.accuracy import behind_baseline

    def record(image: str, wrong: list[str], kind: str = "card") -> dict[str, object]:
        return {"image": image, "kind": kind, "wrong_fields": wrong, "error": None, "failure": None}

    report = {
        "engines": {
            "hmt": {
                "per_image": [
                    record("a", ["name"]),
                    record("b", []),
                    record("c", ["address"]),
                    record("n", [], "negative"),
                ]
            },
            "baseline": {
                "per_image": [record("a", []), record("b", []), record("c", ["name"]), record("n", [], "negative")]
            },
        }
    }
    assert behind_baseline(report) == ["a"]


def test_roc_auc_counts_ties_half() -> None:
    from benchmarks.silent_errors import roc_auc

    assert roc_auc([0.9, 0.8, 0.1], [True, True, False]) == 1.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    assert roc_auc([0.1, 0.9], [True, False]) == 0.0
    assert roc_auc([0.3], [True]) is None
