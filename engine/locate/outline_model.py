"""The learned card outline: OutlineNet (trained by `hmtocr train outline`) run on one shared session.

In: the photo (BGR, any size). Out: the card's four corners in photo pixels (lt-rt along a long side), the
confidence that they outline one card, and the probability map, which also scores any other outline."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import onnxruntime as ort

from engine.locate.quad_fit import QuadFitSettings, fit_quad, long_side_first, quad_mask_iou
from engine.types import QuadXY


@dataclass(frozen=True, slots=True)
class OutlineSettings:
    input_px: int = 192
    # The mask is fitted on a copy this many times the network's output: sub-cell corners from the lines.
    upsample: int = 4
    fit: QuadFitSettings = field(default_factory=QuadFitSettings)


@dataclass(frozen=True, slots=True)
class LearnedOutline:
    quad_xy: QuadXY
    confidence: float  # IoU of the fitted quad with the mask, times the mask's certainty inside it
    prob: np.ndarray  # float32 probability map (network output size), the photo resized to its square


class OutlineModel:
    def __init__(self, session: ort.InferenceSession, settings: OutlineSettings = OutlineSettings()) -> None:
        self._session = session
        self._input = session.get_inputs()[0].name
        self.settings = settings

    def probability(self, img_bgr: np.ndarray) -> np.ndarray:
        s = self.settings.input_px
        small = cv2.resize(img_bgr, (s, s), interpolation=cv2.INTER_AREA)
        x = cv2.cvtColor(small, cv2.COLOR_BGR2RGB).astype(np.float32).transpose(2, 0, 1)[None] / 255.0
        logits = self._session.run(None, {self._input: x})[0][0, 0]
        return np.asarray(1.0 / (1.0 + np.exp(-logits)), np.float32)

    def __call__(self, img_bgr: np.ndarray) -> LearnedOutline | None:
        prob = self.probability(img_bgr)
        k = self.settings.upsample
        big = cv2.resize(prob, (prob.shape[1] * k, prob.shape[0] * k), interpolation=cv2.INTER_LINEAR)
        fitted = fit_quad(big, self.settings.fit)
        if fitted is None:
            return None
        corners, iou = fitted
        h, w = img_bgr.shape[:2]
        scale = np.array([w / big.shape[1], h / big.shape[0]])
        quad = (corners + 0.5) * scale - 0.5  # mask cell centres to photo pixels (as cv2.resize maps them)
        inside = big >= self.settings.fit.threshold
        certainty = float(np.mean(np.abs(big[inside] - 0.5)) * 2) if inside.any() else 0.0
        return LearnedOutline(long_side_first(quad), iou * certainty, prob)

    def support(self, prob: np.ndarray, quad_xy: QuadXY, size_wh: tuple[int, int]) -> float:
        """IoU of any outline (photo pixels) with the mask: how much the network agrees it is the card."""
        h, w = prob.shape
        q = np.asarray(quad_xy, np.float64) * [w / size_wh[0], h / size_wh[1]]
        return quad_mask_iou(q, prob >= self.settings.fit.threshold)
