"""`hmtocr train quality`: fits engine.judge.field_confidence.QualityModel on generated photos.

The engine reads photos of every tier; each field read is a row (features, right or wrong against the
generator's truth). A logistic model is fitted by Newton steps with a light L2 penalty; the operating point
is the chance below which a card is flagged, chosen so that cards with a wrong field are flagged and cards
read entirely right are not, as evenly as the photos allow. Reproducible from the seeds."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.synth import generate_sample
from benchmarks.synth.writer import sample_seed
from engine.config import EngineConfig
from engine.errors import EngineError
from engine.judge.field_confidence import FEATURES, GROUPS, QualityModel, group_of, transform
from engine.pipeline import CardPipeline, build_pipeline
from engine.types import RecognizeOptions

log = logging.getLogger(__name__)
# our generator reads its own photos almost without error: the wrong readings to learn from are in hard and wild
TIERS = ("photo", "hard", "wild", "mixed")


class _Recording(CardPipeline):
    """The engine, keeping each field's features of the last photo read."""

    def __init__(self, inner: CardPipeline) -> None:
        super().__init__(inner.stages)
        self.last: dict[str, np.ndarray] = {}

    def _score_fields(self, reading: Any, readings: Any, paper_bgr: Any) -> Any:
        fields = super()._score_fields(reading, readings, paper_bgr)
        self.last = {name: features for name, (_, features) in self.judge_fields(reading, readings, paper_bgr).items()}
        return fields


def collect(engine: _Recording, set_seed: int, n: int) -> list[tuple[str, np.ndarray, bool, int]]:
    """(field, features, right, card index) for every field read on n photos of each tier."""
    rows: list[tuple[str, np.ndarray, bool, int]] = []
    card = 0
    for tier in TIERS:
        for i in range(n):
            sample = generate_sample(sample_seed(set_seed + TIERS.index(tier), i), tier)
            truth = sample.truth.get("fields") or {}
            if not truth:
                continue
            try:
                result = engine.recognize(sample.image_bytes, RecognizeOptions())
            except EngineError:
                continue
            if int(result.side) != sample.truth["side"]:
                continue
            for f in result.fields:
                if f.name in truth and f.text and f.name in engine.last:
                    rows.append((f.name, engine.last[f.name], f.text == truth[f.name], card))
            card += 1
        log.info("set %d tier %s: %d rows", set_seed, tier, len(rows))
    return rows


def _design(rows: Sequence[tuple[str, np.ndarray, bool, int]]) -> tuple[np.ndarray, np.ndarray]:
    x = np.stack([np.concatenate([transform(feat), [float(group_of(name) == g) for g in GROUPS]])
                  for name, feat, _, _ in rows])
    y = np.array([float(right) for _, _, right, _ in rows])
    return x, y


Rows = Sequence[tuple[str, np.ndarray, bool, int]]


def fit(rows: Rows, l2: float = 1.0, steps: int = 50) -> tuple[np.ndarray, np.ndarray]:
    x, y = _design(rows)
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -40, 40)))
        grad = x.T @ (p - y) + l2 * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    n = len(FEATURES)
    return w[:n], w[n:]


def operating_point(model: QualityModel, rows: Sequence[tuple[str, np.ndarray, bool, int]]) -> float:
    cards: dict[int, list[tuple[float, bool]]] = {}
    for name, feat, right, card in rows:
        cards.setdefault(card, []).append((model.chance_right(name, feat), right))
    lowest = {c: min(p for p, _ in v) for c, v in cards.items()}
    wrong = {c for c, v in cards.items() if not all(r for _, r in v)}
    best, best_cost = 0.5, float("inf")
    for op in np.linspace(0.02, 0.98, 97):
        missed = sum(lowest[c] >= op for c in wrong) / max(1, len(wrong))
        false = sum(lowest[c] < op for c in cards if c not in wrong) / max(1, len(cards) - len(wrong))
        cost = max(missed, false) + 0.1 * (missed + false)
        if cost < best_cost:
            best, best_cost = float(op), cost
    return best


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    pos = [s for s, label in zip(scores, labels, strict=True) if label]
    neg = [s for s, label in zip(scores, labels, strict=True) if not label]
    if not pos or not neg:
        return float("nan")
    wins = sum((p > q) + 0.5 * (p == q) for p in pos for q in neg)
    return wins / (len(pos) * len(neg))


def report(model: QualityModel, rows: Sequence[tuple[str, np.ndarray, bool, int]]) -> dict[str, float]:
    qualities = [model.quality(name, feat) for name, feat, _, _ in rows]
    rights = [right for _, _, right, _ in rows]
    cards: dict[int, list[tuple[float, bool]]] = {}
    for (_, _, right, card), q in zip(rows, qualities, strict=True):
        cards.setdefault(card, []).append((q, right))
    wrong = [v for v in cards.values() if not all(r for _, r in v)]
    whole = [v for v in cards.values() if all(r for _, r in v)]
    return {
        "fields": len(rows),
        "wrong_fields": rights.count(False),
        "auc": round(auc(qualities, rights), 4),
        # the recogniser's lowest character confidence alone, for comparison
        "auc_min_confidence": round(auc([float(feat[0]) for _, feat, _, _ in rows], rights), 4),
        "wrong_cards_not_flagged": round(sum(min(q for q, _ in v) >= model.bar for v in wrong) / max(1, len(wrong)), 4),
        "right_cards_flagged": round(sum(min(q for q, _ in v) < model.bar for v in whole) / max(1, len(whole)), 4),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hmtocr train quality")
    parser.add_argument("--seed", type=int, default=77_000, help="training photos' set seed (held-out: seed + 100)")
    parser.add_argument("--n", type=int, default=100, help="photos per tier")
    parser.add_argument("--out", type=Path, default=Path("models/weights/field_quality.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    engine = _Recording(build_pipeline(EngineConfig(intra_op_threads=2)))
    train_rows = collect(engine, args.seed, args.n)
    held_rows = collect(engine, args.seed + 100, max(20, args.n // 2))
    slopes, intercepts = fit(train_rows)
    model = QualityModel(tuple(map(float, slopes)), dict(zip(GROUPS, map(float, intercepts), strict=True)), 0.5)
    model = QualityModel(model.slopes, model.intercepts, operating_point(model, train_rows))
    raw = {"slopes": list(model.slopes), "intercepts": model.intercepts, "operating_point": model.operating_point,
           "bar": model.bar, "features": list(FEATURES), "seed": args.seed, "n": args.n,
           "train": report(model, train_rows), "held_out": report(model, held_rows)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(raw, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(), "train": raw["train"],
                      "held_out": raw["held_out"]}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
