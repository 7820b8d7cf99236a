"""`hmtocr bench accuracy`: score engines side by side on a labelled folder.

A labelled folder holds images (`*.jpg`, `*.jpeg`, `*.png`) with ground truth `<stem>.json` beside
each one (schema in docs/ARCHITECTURE.md; `hmtocr synth` writes such folders). Every engine reads
every image; figures are defined in `benchmarks.scoring`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.runners import Runner
from benchmarks.scoring import (
    Prediction,
    Truth,
    corner_error,
    iter_field_mismatches,
    markdown_report,
    score_by_tier,
)
from benchmarks.silent_errors import markdown_silent, silent_error_figures

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


@dataclass(frozen=True, slots=True)
class LabelledImage:
    path: Path
    truth: Truth


def load_dataset(data_dir: Path, limit: int | None = None) -> list[LabelledImage]:
    """Images with a truth file beside them, in name order; images without one are skipped."""
    items: list[LabelledImage] = []
    for path in sorted(p for p in data_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        truth_path = path.with_suffix(".json")
        if not truth_path.is_file():
            logger.warning("no ground truth for %s: skipped", path.name)
            continue
        items.append(LabelledImage(path, Truth.from_json(json.loads(truth_path.read_text("utf-8")))))
        if limit is not None and len(items) >= limit:
            break
    return items


def run_engine(runner: Runner, images: Sequence[LabelledImage], workers: int = 1) -> list[Prediction]:
    """Predictions in dataset order, `workers` requests in flight, with a progress bar."""
    from tqdm import tqdm

    def one(item: LabelledImage) -> Prediction:
        return runner.predict(item.path.read_bytes())

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(tqdm(pool.map(one, images), total=len(images), desc=runner.name, unit="img"))


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def per_image_records(images: Sequence[LabelledImage], predictions: Sequence[Prediction]) -> list[dict[str, Any]]:
    """A compact line per image for finding what went wrong (no field values: they are personal data
    in real sets)."""
    records = []
    for item, pred in zip(images, predictions, strict=True):
        records.append(
            {
                "image": item.path.name,
                "tier": item.truth.tier,
                "kind": item.truth.kind,
                "error": pred.error,
                "failure": pred.failure,
                "side": pred.side,
                "wrong_fields": sorted(iter_field_mismatches(item.truth, pred)) if item.truth.positive else [],
                "corner_error": _corner_error(item.truth, pred),
                "result": pred.result_code,
                "latency_ms": round(pred.latency_ms, 1),
            }
        )
    return records


def _corner_error(truth: Truth, pred: Prediction) -> float | None:
    """The card rect's error as a share of the diagonal (None where there is no card to compare)."""
    if not truth.positive or truth.card_quad_xy is None:
        return None
    err = corner_error(pred.card_quad_xy if pred.answered_card else None, truth.card_quad_xy)
    return round(err, 4) if math.isfinite(err) else None


def evaluate(
    runners: Sequence[Runner], images: Sequence[LabelledImage], workers: int = 1
) -> dict[str, Any]:
    """Runs every engine over the images; returns the JSON report (scores, per-image records)."""
    report: dict[str, Any] = {"images": len(images), "engines": {}}
    for runner in runners:
        predictions = run_engine(runner, images, workers)
        samples = [(item.truth, pred) for item, pred in zip(images, predictions, strict=True)]
        report["engines"][runner.name] = {
            "scores": score_by_tier(samples),
            "silent": silent_error_figures(samples),
            "per_image": per_image_records(images, predictions),
        }
    return _json_safe(report)  # type: ignore[no-any-return]


def markdown(report: dict[str, Any]) -> str:
    silent = {name: e["silent"] for name, e in report["engines"].items() if "silent" in e}
    return (
        markdown_report({name: e["scores"] for name, e in report["engines"].items()})
        + _behind_baseline(report)
        + (markdown_silent(silent) if silent else "")
    )


def behind_baseline(report: dict[str, Any], engine: str = "hmt", baseline: str = "baseline") -> list[str]:
    """Photos the baseline reads entirely right (every field, the side) and `engine` does not."""
    engines = report["engines"]
    if engine not in engines or baseline not in engines:
        return []

    def whole(record: dict[str, Any]) -> bool:
        return record["kind"] == "card" and not record["wrong_fields"] and not record["error"] and not record["failure"]

    ours = {r["image"]: r for r in engines[engine]["per_image"]}
    return sorted(r["image"] for r in engines[baseline]["per_image"] if whole(r) and not whole(ours[r["image"]]))


def _behind_baseline(report: dict[str, Any]) -> str:
    behind = behind_baseline(report)
    if "baseline" not in report["engines"] or "hmt" not in report["engines"]:
        return ""
    total = len(report["engines"]["hmt"]["per_image"])
    listed = ", ".join(behind) if behind else "none"
    return f"\n\nPhotos the baseline reads entirely right and hmt does not: {len(behind)} of {total} ({listed})\n"


def handle(args: Any) -> int:
    """The `bench accuracy` handler."""
    from benchmarks.machine import machine_info, markdown_machine, providers_of
    from benchmarks.runners import HttpRunner, InProcessRunner
    from engine.config import EngineConfig

    data_dir = Path(args.data)
    images = load_dataset(data_dir, args.limit)
    if not images:
        logger.error("no labelled images in %s", data_dir)
        return 2
    engine_names: list[str] = list(args.engine or [])
    if not engine_names and not args.url:
        engine_names = ["hmt", "baseline"]
    config = EngineConfig(intra_op_threads=args.threads)
    runners: list[Runner] = [InProcessRunner(name, config) for name in engine_names]
    for url in args.url or []:
        if not (args.key and args.secret):
            logger.error("--url needs --key and --secret")
            return 2
        runners.append(HttpRunner(url, args.key, args.secret, name=f"http:{url}"))
    try:
        report = evaluate(runners, images, args.workers)
    finally:
        for runner in runners:
            runner.close()
    report["data"] = str(data_dir)
    active = {r.name: providers_of(r.engine) for r in runners if isinstance(r, InProcessRunner)}
    report["machine"] = machine_info(engine_names, active)
    text = markdown(report) + "\n" + markdown_machine(report["machine"]) + "\n"
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    if args.json:
        Path(args.json).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
