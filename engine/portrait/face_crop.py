"""Portrait stage: finds the face in the photo area of the warped card and crops it as JPEG.

BlazeFace short-range (mediapipe Tasks `FaceDetector`) runs on the photo area, where the face
dominates as the short-range model expects; OpenCV's Haar frontal-face cascade is the fallback.
Both models are built once in the constructor; each is guarded by its own lock, since neither the
Tasks detector nor `CascadeClassifier` promises thread safety, so one stage serves many threads.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from models.registry import resolve_model_path

logger = logging.getLogger(__name__)

BoxXYXY = tuple[int, int, int, int]
FaceDetectorName = Literal["blazeface", "haar", "none"]

# Where an ID photo's face sits in the photo area, as shares (x0, y0, x1, y1): the whole area first, then
# its upper middle zoomed in twice. BlazeFace short-range wants the face to fill its input; a head-and-
# shoulders portrait whose face is a quarter of the photo's width is found only in the zoomed views.
_FACE_VIEWS: tuple[tuple[float, float, float, float], ...] = (
    (0.0, 0.0, 1.0, 1.0),
    (0.1, 0.0, 0.9, 0.75),
    (0.22, 0.05, 0.78, 0.6),
)
_ZOOMED_MIN_SCORE = 0.7


@dataclass(frozen=True, slots=True, eq=False)
class PortraitCrop:
    """What the stage found. Boxes are in the card image's pixels (`card_bgr` given to the stage).

    `jpeg` (quality 90) holds the enlarged photo area whenever encoding was asked for, face or no face
    (a missing face counts toward 1002; the crop is still the card's photo); `crop_bgr` is the same area as
    pixels (always set, a copy).
    """

    face_found: bool
    face_score: float
    region_xyxy: BoxXYXY  # the enlarged photo area that was searched and cropped
    face_box_xyxy: BoxXYXY | None
    detector: FaceDetectorName
    crop_bgr: np.ndarray
    jpeg: bytes | None = None


def enlarge_box(box_xyxy: BoxXYXY, margin: float, size_wh: tuple[int, int]) -> BoxXYXY:
    """`box_xyxy` grown by `margin` of its width/height on every side, clipped to the image."""
    x0, y0, x1, y1 = box_xyxy
    w, h = size_wh
    dx = round((x1 - x0) * margin)
    dy = round((y1 - y0) * margin)
    return (max(0, x0 - dx), max(0, y0 - dy), min(w, x1 + dx), min(h, y1 + dy))


def _close_quietly(detector: Any) -> None:
    try:
        detector.close()
    except Exception:
        # At interpreter exit mediapipe's executor is already shut down and close() cannot run;
        # mark the detector released so its __del__ does not retry and print a TypeError.
        with contextlib.suppress(Exception):
            detector._handle = None


class PortraitStage:
    """Callable stage: `stage(card_bgr, region_xyxy) -> PortraitCrop`. Thread-safe; call `close()` when done."""

    def __init__(
        self,
        *,
        min_score: float = 0.5,
        margin: float = 0.08,
        jpeg_quality: int = 90,
        short_range_path: Path | None = None,
        haar_path: Path | None = None,
    ) -> None:
        if not 0.0 < min_score < 1.0:
            raise ValueError(f"min_score must be in (0, 1): {min_score}")
        self._min_score = min_score
        self._margin = margin
        self._jpeg_params = [int(cv2.IMWRITE_JPEG_QUALITY), int(jpeg_quality)]
        # mediapipe logs through glog/absl; keep its INFO lines out of the service log.
        os.environ.setdefault("GLOG_minloglevel", "2")
        self._blaze: Any = None
        self._blaze_lock = threading.Lock()
        try:
            import mediapipe as mp
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as exc:
            # mediapipe is installed apart (`pip install --no-deps`: it declares a second cv2), so a plain
            # `pip install` has none; the service still starts and finds faces with the Haar cascade.
            logger.warning("mediapipe unavailable (%s): portraits are found with the Haar cascade only", exc)
        else:
            self._mp = mp
            model = short_range_path or resolve_model_path("face_short_range")
            options = vision.FaceDetectorOptions(
                base_options=BaseOptions(model_asset_path=str(model)),
                min_detection_confidence=min_score,
            )
            self._blaze = vision.FaceDetector.create_from_options(options)
        # The Tasks detector's __del__ fails noisily at interpreter exit: close it first, explicitly.
        self._finalizer = weakref.finalize(self, _close_quietly, self._blaze)

        haar = haar_path or resolve_model_path("face_haar")
        self._haar = cv2.CascadeClassifier(str(haar))
        if self._haar.empty():
            raise RuntimeError(f"could not load the Haar cascade {haar}")
        self._haar_lock = threading.Lock()

    def close(self) -> None:
        """Releases the face detector; the stage must not be used afterwards. Idempotent."""
        with self._blaze_lock:
            self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __call__(self, card_bgr: np.ndarray, region_xyxy: BoxXYXY, *, encode_jpeg: bool = True) -> PortraitCrop:
        if card_bgr.ndim != 3 or card_bgr.shape[2] != 3 or card_bgr.dtype != np.uint8:
            raise ValueError(f"need a BGR uint8 image, got shape {card_bgr.shape} dtype {card_bgr.dtype}")
        if self.closed:
            raise RuntimeError("PortraitStage is closed")
        h, w = card_bgr.shape[:2]
        region = enlarge_box(region_xyxy, self._margin, (w, h))
        x0, y0, x1, y1 = region
        if x1 - x0 < 8 or y1 - y0 < 8:
            raise ValueError(f"portrait region too small or outside the card: {region_xyxy}")
        crop = np.ascontiguousarray(card_bgr[y0:y1, x0:x1])

        jpeg: bytes | None = None
        if encode_jpeg:
            ok, buf = cv2.imencode(".jpg", crop, self._jpeg_params)
            if not ok:
                raise RuntimeError("JPEG encoding of the portrait failed")
            jpeg = buf.tobytes()
        found, detector = self._find_face(crop)
        if found is None:
            return PortraitCrop(False, 0.0, region, None, "none", crop, jpeg)
        (fx0, fy0, fx1, fy1), score = found
        face_box = (fx0 + x0, fy0 + y0, fx1 + x0, fy1 + y0)
        return PortraitCrop(True, round(score, 3), region, face_box, detector, crop, jpeg)

    def _find_face(self, crop: np.ndarray) -> tuple[tuple[BoxXYXY, float] | None, FaceDetectorName]:
        """BlazeFace over the photo area and its zoomed views, then the Haar cascade; boxes in crop pixels."""
        ch, cw = crop.shape[:2]
        for i, (vx0, vy0, vx1, vy1) in enumerate(_FACE_VIEWS):
            ox, oy = round(vx0 * cw), round(vy0 * ch)
            view = np.ascontiguousarray(crop[oy : round(vy1 * ch), ox : round(vx1 * cw)])
            found = self._blazeface(view)
            # a zoomed view magnifies patterns too: a face found there must be surer
            if found is not None and (i == 0 or found[1] >= _ZOOMED_MIN_SCORE):
                (bx0, by0, bx1, by1), score = found
                return ((bx0 + ox, by0 + oy, bx1 + ox, by1 + oy), score), "blazeface"
        haar = self._haar_face(crop)
        return (haar, "haar") if haar is not None else (None, "none")

    def _blazeface(self, crop_bgr: np.ndarray) -> tuple[BoxXYXY, float] | None:
        if self._blaze is None:
            return None
        rgb = np.ascontiguousarray(crop_bgr[:, :, ::-1])
        image = self._mp.Image(image_format=self._mp.ImageFormat.SRGB, data=rgb)
        with self._blaze_lock:
            if self.closed:
                raise RuntimeError("PortraitStage is closed")
            result = self._blaze.detect(image)
        best: tuple[BoxXYXY, float] | None = None
        ch, cw = crop_bgr.shape[:2]
        for det in result.detections:
            score = float(det.categories[0].score) if det.categories else 0.0
            bb = det.bounding_box
            box = (
                max(0, int(bb.origin_x)),
                max(0, int(bb.origin_y)),
                min(cw, int(bb.origin_x + bb.width)),
                min(ch, int(bb.origin_y + bb.height)),
            )
            # A face on the card's photo fills a good part of it; tiny hits are pattern noise.
            if score >= self._min_score and (box[2] - box[0]) >= 0.15 * cw and (best is None or score > best[1]):
                best = (box, score)
        return best

    def _haar_face(self, crop_bgr: np.ndarray) -> tuple[BoxXYXY, float] | None:
        gray = cv2.equalizeHist(cv2.cvtColor(crop_bgr, cv2.COLOR_BGR2GRAY))
        side = min(gray.shape[:2])
        min_px = max(24, int(side * 0.2))
        with self._haar_lock:
            faces = self._haar.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=6, minSize=(min_px, min_px))
        if len(faces) == 0:
            return None
        x, y, fw, fh = max((tuple(int(v) for v in f) for f in faces), key=lambda f: f[2] * f[3])
        # The cascade gives no calibrated score; report the detection threshold it passed.
        return (x, y, x + fw, y + fh), self._min_score
