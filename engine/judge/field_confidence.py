"""A field's quality as the calibrated chance that its reading is right.

A logistic model over what the engine knows of one reading: the recogniser's confidences (lowest, mean,
how many characters were unsure), the crop's cues (glare, occlusion, blur, contrast), the field's own
grammar and the card's cross-checks. Its weights are learned on generated photos (`hmtocr train quality`,
models/weights/field_quality.json). The chance is then mapped, monotonically, so the operating point
learned on those photos sits at the vendor's bar: below it, 1002."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.judge import rules
from engine.judge.scoring import QualityCues

# One group per kind of value: each has its own intercept; the slopes are shared.
GROUPS: tuple[str, ...] = ("name", "gender", "birth", "address", "idcard_number", "issued_by", "validity",
                           "eep_number", "issue_count")
_GROUP_OF = {"birth_year": "birth", "birth_month": "birth", "birth_day": "birth", "valid_date_start": "validity",
             "valid_date_end": "validity"}
FEATURES: tuple[str, ...] = ("min_conf", "mean_conf", "low3_conf", "unsure_share", "log_len", "glare", "occluded",
                             "blur", "low_contrast", "logic", "grammar_off")
_UNSURE = 0.9
_NAME_RE = re.compile(r"[\u4e00-\u9fff·]{2,6}")
_ISSUER_RE = re.compile(r".+(公安局|分局|出入境管理局)$")
_ADDRESS_RE = re.compile(r".*(省|自治区|市|区|县).+")


def group_of(field: str) -> str:
    return _GROUP_OF.get(field, field)


def grammar_off(field: str, text: str) -> bool:
    """The reading breaks its field's own grammar (a field the card's cross-checks do not cover)."""
    group = group_of(field)
    if group == "name":
        return _NAME_RE.fullmatch(text) is None
    if group == "gender":
        return text not in ("男", "女")
    if group == "idcard_number":
        return not rules.is_valid_id_number(text)
    if group == "eep_number":
        return not rules.is_valid_pass_number(text)
    if group == "issued_by":
        return _ISSUER_RE.fullmatch(text) is None
    if group == "address":
        return _ADDRESS_RE.fullmatch(text) is None or len(text) < 6
    if group == "issue_count":
        return re.fullmatch(r"\d{2}", text) is None
    return False


def field_features(field: str, text: str, confidences: tuple[float, ...], cues: QualityCues, logic: int) -> np.ndarray:
    conf = np.clip(np.asarray(confidences or (0.0,), np.float64), 1e-4, 1.0)
    low3 = np.sort(conf)[:3].mean()
    return np.array(
        [
        float(conf.min()), float(conf.mean()), float(low3), float((conf < _UNSURE).mean()),
        math.log1p(len(text)), cues.glare_fraction, cues.occluded_fraction, cues.blur_score,
        max(0.0, 0.15 - cues.contrast) / 0.15, float(logic), float(grammar_off(field, text)),
        ],
        np.float64,
    )


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.asarray(np.log(p / (1 - p)), np.float64)


@dataclass(frozen=True, slots=True)
class QualityModel:
    slopes: tuple[float, ...]  # one per FEATURES (on the confidences' logits where named *_conf)
    intercepts: dict[str, float]  # one per GROUPS
    # the chance of being right at the operating point chosen on the training photos; mapped to `bar`
    operating_point: float
    bar: float = 0.15

    @classmethod
    def load(cls, path: Path) -> QualityModel:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(tuple(raw["slopes"]), dict(raw["intercepts"]), float(raw["operating_point"]), float(raw["bar"]))

    def chance_right(self, field: str, features: np.ndarray) -> float:
        x = transform(features)
        z = float(np.dot(self.slopes, x)) + self.intercepts.get(group_of(field), 0.0)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def quality(self, field: str, features: np.ndarray) -> float:
        """The chance mapped piecewise linearly: the operating point onto the bar, 0 onto 0 and 1 onto 1."""
        p, op, bar = self.chance_right(field, features), self.operating_point, self.bar
        q = bar * p / op if p < op else bar + (1 - bar) * (p - op) / (1 - op)
        return round(min(1.0, max(0.0, q)), 3)


def transform(features: np.ndarray) -> np.ndarray:
    """Confidences on the logit scale (0.99 and 0.999 differ as much as a wrong character does)."""
    x = np.array(features, np.float64)
    x[:3] = _logit(x[:3]) / 5.0
    return x
