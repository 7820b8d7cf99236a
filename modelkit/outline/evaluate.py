"""`python -m modelkit.outline.evaluate MODEL.onnx|.pt DIR...`: the learned outline alone on labelled photos.

Prints, per folder, the share of cards outlined within 2 % of the diagonal (best cyclic corner order, as
the accuracy benchmark judges) and the median error; negatives count when no card is claimed."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort

from benchmarks.scoring import Truth, corner_error
from engine.locate.outline_model import OutlineModel


def _session(path: Path) -> ort.InferenceSession:
    if path.suffix == ".pt":
        import torch

        from modelkit.outline.net import OutlineNet
        from modelkit.outline.train import export

        model = OutlineNet()
        model.load_state_dict(torch.load(path))
        path = path.with_suffix(".eval.onnx")
        export(model, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def evaluate(model: OutlineModel, folder: Path, show: Path | None = None, refine: bool = False) -> dict[str, Any]:
    from engine.locate.card_locate import CardLocator

    locator = CardLocator()
    errors: list[float] = []
    times: list[float] = []
    negatives = rejected = 0
    for truth_path in sorted(folder.glob("*.json")):
        found_images = [truth_path.with_suffix(s) for s in (".jpg", ".png", ".jpeg")]
        image_path = next((p for p in found_images if p.exists()), None)
        if image_path is None:
            continue
        truth = Truth.from_json(json.loads(truth_path.read_text("utf-8")))
        img = np.asarray(cv2.imread(str(image_path), cv2.IMREAD_COLOR), np.uint8)
        if img.ndim != 3:
            continue
        start = time.perf_counter()
        found = model(img)
        times.append((time.perf_counter() - start) * 1000)
        if not truth.positive or truth.card_quad_xy is None:
            negatives += 1
            rejected += found is None or found.confidence < 0.5
            continue
        quad = found.quad_xy if found else None
        if refine and quad is not None:
            quad = locator.refine_quad(img, quad, ())
        err = corner_error(quad, truth.card_quad_xy)
        errors.append(err)
        if show is not None and found is not None and err > 0.02:
            cv2.polylines(img, [np.array(truth.card_quad_xy, np.int32)], True, (0, 255, 0), 3)
            cv2.polylines(img, [np.array(quad, np.int32)], True, (0, 0, 255), 3)
            s = 800 / max(img.shape[:2])
            show.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(show / f"{truth_path.stem}.jpg"), cv2.resize(img, None, fx=s, fy=s))
    finite = [e for e in errors if np.isfinite(e)]
    return {
        "cards": len(errors),
        "within_2pct": sum(e <= 0.02 for e in errors) / max(1, len(errors)),
        "within_5pct": sum(e <= 0.05 for e in errors) / max(1, len(errors)),
        "median_error": statistics.median(finite) if finite else float("inf"),
        "missed": sum(not np.isfinite(e) for e in errors),
        "negatives_rejected": f"{rejected}/{negatives}",
        "median_ms": statistics.median(times) if times else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", type=Path)
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--show", type=Path, default=None, help="write photos outlined > 2 % off here")
    parser.add_argument("--refine", action="store_true", help="snap the outline to the photo's edges too")
    args = parser.parse_args()
    model = OutlineModel(_session(args.model))
    for folder in args.folders:
        show = args.show / folder.name if args.show else None
        print(folder, json.dumps(evaluate(model, folder, show, args.refine)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
