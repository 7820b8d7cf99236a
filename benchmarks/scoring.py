"""Accuracy metrics: pure functions from (ground truth, prediction) pairs to figures.

Both ways of running an engine (in process, or any server speaking the wire protocol) produce the
same `Prediction`, so every engine is scored by the same code. Definitions:

- *positive*: an image whose ground truth expects no error (a permit, front or back).
- *field exact match*: per field name, over positives whose truth has the field and does not list it
  in `occluded_fields`, `cut_fields` or `glare_fields`; the predicted text must equal the truth text
  (surrounding spaces ignored). Occluded, cut or glared fields are scored apart (`unreadable_fields`,
  for information), never as failures of readable ones: the generator's glare spots saturate the ink
  away (characters are gone, not faint), so no reader can be expected to return them.
- *all fields correct*: positives with the right side and every readable truth field exact.
- *card found*: positives answered with a card (no error, no failure).
- *negatives rejected* / *size errors*: images expecting `ID_CARD_NOT_FOUND` / `INVALID_IMAGE_SIZE`
  answered with exactly that error.
- *card rect*: max corner distance / card diagonal (mean of both diagonals); a missing or all-zero
  rect is an infinite error. Reported as the share of positives within 2 %.
- *logic flags*: a flag is `logic == 1` on a readable field the engine did read (non-empty text: a
  flag on an unread field only says "not read", already counted by exact match). Scored per field
  against `injected_logic_errors` and per card (any flag vs any injection). n/a when the set has no
  injected errors.
- *portrait*: on fronts, returned when the truth has a face; not returned when it has none.
- *failures*: crashes, transport errors and junk answers (non-JSON, wrong types, missing keys,
  HTTP 5xx, unexpected error strings); each one is also wrong on every other figure.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.types import QuadXY

ERROR_NOT_FOUND = "ID_CARD_NOT_FOUND"
ERROR_SIZE = "INVALID_IMAGE_SIZE"
ERROR_FORMAT = "IMAGE_ERROR_UNSUPPORTED_FORMAT"
# Error answers that are legitimate readings of an image; any other error string is a failure.
ANSWER_ERRORS: frozenset[str] = frozenset({ERROR_NOT_FOUND, ERROR_SIZE, ERROR_FORMAT})
RECT_TOLERANCE = 0.02


@dataclass(frozen=True, slots=True)
class Truth:
    """Ground truth of one image (`<image>.json`, schema in docs/ARCHITECTURE.md)."""

    tier: str
    kind: str
    side: int | None
    fields: Mapping[str, str]
    card_quad_xy: QuadXY | None
    completeness: int | None
    occluded_fields: frozenset[str] = frozenset()
    cut_fields: frozenset[str] = frozenset()
    glare_fields: frozenset[str] = frozenset()
    face_present: bool = False
    expected_error: str | None = None
    injected_logic_errors: frozenset[str] = frozenset()
    special: str | None = None  # the generator's special case (cut1, glare, negative_text, ...)

    @property
    def positive(self) -> bool:
        return self.expected_error is None

    @property
    def unreadable_fields(self) -> frozenset[str]:
        """Fields hidden by an occluder, washed out by glare or cut off by the photo's edge."""
        return self.occluded_fields | self.cut_fields | self.glare_fields

    @property
    def readable_fields(self) -> dict[str, str]:
        return {k: v for k, v in self.fields.items() if k not in self.unreadable_fields}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Truth:
        quad = data.get("card_quad_xy")
        if quad is None and isinstance(data.get("card_quad"), Mapping):  # the field sample's corners by name
            quad = [data["card_quad"][corner] for corner in ("lt", "rt", "rb", "lb")]
        card_quad: QuadXY | None = None
        if quad:
            pts = [(float(p[0]), float(p[1])) for p in quad]
            card_quad = (pts[0], pts[1], pts[2], pts[3])
        expected_error = data.get("expected_error") or data.get("expect_error") or None
        return cls(
            tier=str(data.get("tier") or "unknown"),
            kind=str(data.get("kind") or ("card" if expected_error is None else "negative")),
            side=None if data.get("side") is None else int(data["side"]),
            fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()},
            card_quad_xy=card_quad,
            completeness=None if data.get("completeness") is None else int(data["completeness"]),
            occluded_fields=frozenset(data.get("occluded_fields") or ()),
            cut_fields=frozenset(data.get("cut_fields") or ()),
            glare_fields=frozenset(data.get("glare_fields") or ()),
            face_present=bool(data.get("face_present", False)),
            expected_error=expected_error,
            injected_logic_errors=frozenset(data.get("injected_logic_errors") or ()),
            special=data.get("special") or None,
        )


@dataclass(frozen=True, slots=True)
class PredictedField:
    text: str
    quality: float = 0.0
    logic: int = 0


@dataclass(frozen=True, slots=True)
class Prediction:
    """One engine's answer to one image, whichever way it was obtained."""

    latency_ms: float
    error: str | None = None  # an answer error code without its argument (ID_CARD_NOT_FOUND, ...)
    failure: str | None = None  # crash, transport error or junk answer: wrong on every figure
    side: int | None = None
    fields: Mapping[str, PredictedField] = field(default_factory=dict)
    card_quad_xy: QuadXY | None = None
    completeness: int | None = None
    result_code: int | None = None
    portrait_returned: bool = False

    @property
    def answered_card(self) -> bool:
        return self.failure is None and self.error is None and self.side is not None


@dataclass(frozen=True, slots=True)
class Rate:
    hits: int
    total: int

    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None

    def to_json(self) -> dict[str, Any]:
        return {"rate": self.value, "hits": self.hits, "total": self.total}


class _Counter:
    def __init__(self) -> None:
        self.hits = 0
        self.total = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.hits += int(ok)

    def rate(self) -> Rate:
        return Rate(self.hits, self.total)


def text_matches(predicted: str | None, truth: str) -> bool:
    return predicted is not None and predicted.strip() == truth.strip()


def _dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def corner_error(predicted: QuadXY | None, truth: QuadXY) -> float:
    """Largest corner distance over the card diagonal, under the best of the four cyclic corner orders
    (the outline is judged, not which corner was called top-left); `inf` for a missing or all-zero rect."""
    if predicted is None or all(x == 0 and y == 0 for x, y in predicted):
        return math.inf
    diagonal = (_dist(truth[0], truth[2]) + _dist(truth[1], truth[3])) / 2.0
    if diagonal <= 0:
        return math.inf
    orders = [predicted[i:] + predicted[:i] for i in range(4)]
    return min(max(_dist(p, t) for p, t in zip(order, truth, strict=True)) for order in orders) / diagonal


def _logic_flags(truth: Truth, pred: Prediction) -> set[str]:
    if not pred.answered_card:
        return set()
    return {
        name
        for name, f in pred.fields.items()
        if f.logic == 1 and f.text and name in truth.fields and name not in truth.unreadable_fields
    }


def precision_recall(tp: int, fp: int, fn: int) -> tuple[float | None, float | None]:
    precision = tp / (tp + fp) if tp + fp else None
    recall = tp / (tp + fn) if tp + fn else None
    return precision, recall


def score(samples: Sequence[tuple[Truth, Prediction]]) -> dict[str, Any]:
    """All figures for one engine on one group of images (JSON-ready)."""
    field_ok: dict[str, _Counter] = {}
    occluded_ok: dict[str, _Counter] = {}
    all_correct, side_ok, found, completeness_ok = _Counter(), _Counter(), _Counter(), _Counter()
    negatives, sizes, rect_ok = _Counter(), _Counter(), _Counter()
    portrait_present, portrait_absent = _Counter(), _Counter()
    rect_errors: list[float] = []
    tp = fp = fn = 0
    card_tp = card_fp = card_fn = 0
    injected_total = 0
    failures = 0
    failure_kinds: dict[str, int] = {}
    latencies = [p.latency_ms for _, p in samples]

    for truth, pred in samples:
        if pred.failure is not None:
            failures += 1
            kind = pred.failure.split(":", 1)[0]
            failure_kinds[kind] = failure_kinds.get(kind, 0) + 1
        if truth.expected_error == ERROR_NOT_FOUND:
            negatives.add(pred.failure is None and pred.error == ERROR_NOT_FOUND)
        elif truth.expected_error == ERROR_SIZE:
            sizes.add(pred.failure is None and pred.error == ERROR_SIZE)
        if not truth.positive:
            continue

        card = pred.answered_card
        found.add(card)
        side_right = card and pred.side == truth.side
        side_ok.add(side_right)
        completeness_ok.add(card and pred.completeness == truth.completeness)

        every_field = side_right
        for name, text in truth.fields.items():
            got = pred.fields.get(name) if side_right else None
            ok = text_matches(got.text if got else None, text)
            if name in truth.unreadable_fields:
                occluded_ok.setdefault(name, _Counter()).add(ok)
            else:
                field_ok.setdefault(name, _Counter()).add(ok)
                every_field = every_field and ok
        all_correct.add(every_field)

        if truth.card_quad_xy is not None:
            err = corner_error(pred.card_quad_xy if card else None, truth.card_quad_xy)
            rect_errors.append(err)
            rect_ok.add(err <= RECT_TOLERANCE)

        injected = set(truth.injected_logic_errors)
        injected_total += len(injected)
        flags = _logic_flags(truth, pred)
        tp += len(flags & injected)
        fp += len(flags - injected)
        fn += len(injected - flags)
        card_tp += int(bool(flags) and bool(injected))
        card_fp += int(bool(flags) and not injected)
        card_fn += int(not flags and bool(injected))

        if truth.side == 0:
            returned = card and pred.portrait_returned
            if truth.face_present:
                portrait_present.add(returned)
            else:
                portrait_absent.add(not returned)

    if injected_total:
        precision, recall = precision_recall(tp, fp, fn)
        card_precision, card_recall = precision_recall(card_tp, card_fp, card_fn)
    else:
        precision = recall = card_precision = card_recall = None
    finite = [e for e in rect_errors if math.isfinite(e)]
    median_err = statistics.median(rect_errors) if rect_errors else None
    return {
        "images": len(samples),
        "positives": found.total,
        "fields": {k: v.rate().to_json() for k, v in sorted(field_ok.items())},
        "unreadable_fields": {k: v.rate().to_json() for k, v in sorted(occluded_ok.items())},
        "all_fields_correct": all_correct.rate().to_json(),
        "side_accuracy": side_ok.rate().to_json(),
        "card_found": found.rate().to_json(),
        "negatives_rejected": negatives.rate().to_json(),
        "size_errors_correct": sizes.rate().to_json(),
        "completeness_accuracy": completeness_ok.rate().to_json(),
        "rect_within_2pct": rect_ok.rate().to_json(),
        "rect_median_error_pct": (
            None if median_err is None or not math.isfinite(median_err) else 100.0 * median_err
        ),
        "rect_mean_error_pct_of_returned": 100.0 * statistics.fmean(finite) if finite else None,
        "logic": {
            "injected_fields": injected_total,
            "field_precision": precision,
            "field_recall": recall,
            "card_precision": card_precision,
            "card_recall": card_recall,
            "tp": tp,
            "fp": fp,
            "fn": fn,
        },
        "portrait_when_face": portrait_present.rate().to_json(),
        "no_portrait_when_no_face": portrait_absent.rate().to_json(),
        "failures": failures,
        "failure_kinds": failure_kinds,
        "latency_ms_mean": statistics.fmean(latencies) if latencies else None,
        "latency_ms_median": statistics.median(latencies) if latencies else None,
    }


def score_by_tier(samples: Sequence[tuple[Truth, Prediction]]) -> dict[str, Any]:
    """`{"overall": all, "tiers": {tier: that tier}, "specials": {special case: those images}}`
    (images without a special case are grouped under `plain`)."""
    tiers: dict[str, list[tuple[Truth, Prediction]]] = {}
    specials: dict[str, list[tuple[Truth, Prediction]]] = {}
    for truth, pred in samples:
        tiers.setdefault(truth.tier, []).append((truth, pred))
        specials.setdefault(truth.special or "plain", []).append((truth, pred))
    return {
        "overall": score(samples),
        "tiers": {t: score(s) for t, s in sorted(tiers.items())},
        "specials": {k: score(s) for k, s in sorted(specials.items())},
    }


# ---------------------------------------------------------------------------------------------------
# Markdown: engines side by side as columns


def _fmt_rate(value: Any) -> str:
    if not isinstance(value, Mapping) or value.get("total", 0) == 0:
        return "n/a"
    return f"{100.0 * value['rate']:.1f}% ({value['hits']}/{value['total']})"


def _fmt_number(value: Any, suffix: str = "", digits: int = 1) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}{suffix}"


def _rows(scores: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Callable[[Mapping[str, Any]], str]]]:
    field_names: list[str] = []
    occluded_names: list[str] = []
    for s in scores.values():
        field_names += [n for n in s["fields"] if n not in field_names]
        occluded_names += [n for n in s["unreadable_fields"] if n not in occluded_names]

    def rate(*path: str) -> Callable[[Mapping[str, Any]], str]:
        def get(s: Mapping[str, Any]) -> str:
            value: Any = s
            for p in path:
                value = value.get(p, {}) if isinstance(value, Mapping) else {}
            return _fmt_rate(value)

        return get

    rows: list[tuple[str, Callable[[Mapping[str, Any]], str]]] = [
        ("images", lambda s: str(s["images"])),
    ]
    rows += [(f"field `{n}`", rate("fields", n)) for n in field_names]
    rows += [(f"occluded/cut/glare `{n}` (info)", rate("unreadable_fields", n)) for n in occluded_names]
    rows += [
        ("all fields correct", rate("all_fields_correct")),
        ("side accuracy", rate("side_accuracy")),
        ("card found (positives)", rate("card_found")),
        ("negatives rejected", rate("negatives_rejected")),
        ("size errors correct", rate("size_errors_correct")),
        ("completeness accuracy", rate("completeness_accuracy")),
        ("card rect within 2%", rate("rect_within_2pct")),
        ("card rect median error", lambda s: _fmt_number(s["rect_median_error_pct"], "%", 2)),
        ("logic field precision", lambda s: _fmt_number(s["logic"]["field_precision"], "", 3)),
        ("logic field recall", lambda s: _fmt_number(s["logic"]["field_recall"], "", 3)),
        ("logic card precision", lambda s: _fmt_number(s["logic"]["card_precision"], "", 3)),
        ("logic card recall", lambda s: _fmt_number(s["logic"]["card_recall"], "", 3)),
        ("face found when one is printed", rate("portrait_when_face")),
        ("no face claimed when none is", rate("no_portrait_when_no_face")),
        ("failures (crash/junk)", lambda s: str(s["failures"])),
        ("latency mean", lambda s: _fmt_number(s["latency_ms_mean"], " ms", 0)),
        ("latency median", lambda s: _fmt_number(s["latency_ms_median"], " ms", 0)),
    ]
    return rows


def markdown_table(scores: Mapping[str, Mapping[str, Any]]) -> str:
    """One table, a row per figure and a column per engine."""
    names = list(scores)
    lines = ["| figure | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for label, get in _rows(scores):
        lines.append(f"| {label} | " + " | ".join(get(scores[n]) for n in names) + " |")
    return "\n".join(lines)


def markdown_report(results: Mapping[str, Mapping[str, Any]], title: str = "Accuracy") -> str:
    """`results`: engine name -> `score_by_tier` output. Overall table, then one table per tier."""
    parts = [f"## {title}: overall", "", markdown_table({n: r["overall"] for n, r in results.items()})]
    tiers: list[str] = []
    for r in results.values():
        tiers += [t for t in r["tiers"] if t not in tiers]
    for tier in tiers:
        per = {n: r["tiers"][tier] for n, r in results.items() if tier in r["tiers"]}
        parts += ["", f"## {title}: tier `{tier}`", "", markdown_table(per)]
    return "\n".join(parts) + "\n"


def iter_field_mismatches(truth: Truth, pred: Prediction) -> Iterable[str]:
    """Names of readable truth fields the prediction got wrong (for per-image reports)."""
    for name, text in truth.readable_fields.items():
        got = pred.fields.get(name) if pred.side == truth.side else None
        if not text_matches(got.text if got else None, text):
            yield name
