"""Does the answer say when it is wrong? The figures the vendor's `result` and `quality` promise.

- silent errors: of the cards read with a wrong field, the share answered 1001 ("nothing to worry about");
- false alarms: of the cards read entirely right, the share answered 1002;
- per-field quality ROC AUC between right and wrong readings (non-empty fields only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from benchmarks.scoring import Prediction, Truth, iter_field_mismatches

OK_CODE = 1001


def roc_auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """The chance that a right reading scores above a wrong one (ties count half); None without both."""
    ranked = sorted(zip(scores, labels, strict=True))
    pos = sum(labels)
    neg = len(labels) - pos
    if not pos or not neg:
        return None
    rank_sum = 0.0
    i = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mean_rank = (i + j + 1) / 2  # ranks i+1..j share their mean
        rank_sum += mean_rank * sum(1 for _, label in ranked[i:j] if label)
        i = j
    return (rank_sum - pos * (pos + 1) / 2) / (pos * neg)


def silent_error_figures(samples: Sequence[tuple[Truth, Prediction]]) -> dict[str, Any]:
    wrong_cards = wrong_said_ok = right_cards = right_said_bad = 0
    qualities: list[float] = []
    rights: list[bool] = []
    for truth, pred in samples:
        if not truth.positive or not pred.answered_card or pred.result_code is None:
            continue
        wrong = set(iter_field_mismatches(truth, pred))
        if wrong:
            wrong_cards += 1
            wrong_said_ok += pred.result_code == OK_CODE
        else:
            right_cards += 1
            right_said_bad += pred.result_code != OK_CODE
        for name, field in pred.fields.items():
            if name in truth.fields and field.text:
                qualities.append(field.quality)
                rights.append(name not in wrong)
    auc = roc_auc(qualities, rights)
    return {
        "wrong_cards": wrong_cards,
        "silent_errors": round(wrong_said_ok / wrong_cards, 4) if wrong_cards else None,
        "right_cards": right_cards,
        "false_alarms": round(right_said_bad / right_cards, 4) if right_cards else None,
        "quality_auc": round(auc, 4) if auc is not None else None,
    }


def markdown_silent(figures: dict[str, dict[str, Any]]) -> str:
    lines = ["", "## Does the answer say when it is wrong", "",
             "| engine | cards with a wrong field answered 1001 | cards read right answered 1002 | quality ROC AUC |",
             "|---|---|---|---|"]
    for name, f in figures.items():
        silent = "n/a" if f["silent_errors"] is None else f"{100 * f['silent_errors']:.1f} % of {f['wrong_cards']}"
        alarms = "n/a" if f["false_alarms"] is None else f"{100 * f['false_alarms']:.1f} % of {f['right_cards']}"
        auc = "n/a" if f["quality_auc"] is None else f"{f['quality_auc']:.3f}"
        lines.append(f"| {name} | {silent} | {alarms} | {auc} |")
    return "\n".join(lines) + "\n"
