"""PP-OCR text-line angle classifier (0° or 180°): decides whether a warped card is upside down."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import cv2
import numpy as np
import onnxruntime as ort

from engine.ocr.lanes import Lanes
from engine.ocr.rec import Crop, pixels, unit_planar

_H, _W = 48, 192


class TextAngleClassifier:
    def __init__(self, session: ort.InferenceSession, lanes: Lanes | None = None) -> None:
        self._session = session
        self._input_name = session.get_inputs()[0].name
        self._lanes = lanes or Lanes(1)

    def upside_down_logit(self, crops_bgr: Sequence[Crop]) -> float:
        """Sum over crops of log P(180°) - log P(0°): positive means the text is upside down."""
        return float(np.sum(self.upside_down_logits(crops_bgr)))

    def upside_down_logits(self, crops_bgr: Sequence[Crop]) -> np.ndarray:
        """Per crop, log P(180°) - log P(0°)."""
        if not crops_bgr:
            return np.zeros(0, dtype=np.float32)
        probs = np.zeros((len(crops_bgr), 2), dtype=np.float32)
        parts = np.array_split(np.arange(len(crops_bgr)), min(self._lanes.count, len(crops_bgr)))

        def run(rows: np.ndarray) -> None:
            batch = np.zeros((len(rows), 3, _H, _W), dtype=np.float32)
            for row, i in enumerate(rows):
                crop = pixels(crops_bgr[i])
                h, w = crop.shape[:2]
                target_w = min(_W, max(1, round(_H * w / max(h, 1))))
                resized = cv2.resize(crop, (target_w, _H), interpolation=cv2.INTER_LINEAR)
                batch[row, :, :, :target_w] = unit_planar(resized)
            probs[rows] = self._session.run(None, {self._input_name: batch})[0]

        self._lanes.run([partial(run, rows) for rows in parts], costs=[len(rows) for rows in parts])
        probs = np.clip(probs, 1e-6, 1.0)
        return np.asarray(np.log(probs[:, 1]) - np.log(probs[:, 0]), dtype=np.float32)
