"""The card alone: a generated photo's card warped flat into a card-shaped image, as a client app that crops
the card before uploading (or a scanner) would send it. Cropped upright, now and then upside down, and
compressed again."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from benchmarks.synth.assets import CARD_H_MM, CARD_W_MM

# Widths such apps send, in pixels.
_WIDTH_PX = (640, 1400)
_UPSIDE_DOWN_P = 0.15
_JPEG_QUALITY = (80, 95)


def cut_out(image_bytes: bytes, truth: dict[str, Any], rng: np.random.Generator) -> tuple[bytes, dict[str, Any]]:
    """The card of a photo (its truth's outline, the card whole in the photo) as an image of its own, with the
    truth moved onto it: the outline is the frame, the fields' quads follow the warp."""
    if truth["completeness"] != 0:
        raise ValueError("the card must be whole in the photo to be cut out")
    photo = cv2.imdecode(np.frombuffer(image_bytes, np.uint8), cv2.IMREAD_COLOR)
    if photo is None:
        raise ValueError("not an image")
    w = int(rng.integers(_WIDTH_PX[0], _WIDTH_PX[1] + 1))
    h = round(w * CARD_H_MM / CARD_W_MM)
    frame = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)
    if rng.random() < _UPSIDE_DOWN_P:
        frame = frame[[2, 3, 0, 1]]  # the printed top-left lands bottom-right
    matrix = cv2.getPerspectiveTransform(np.array(truth["card_quad_xy"], np.float32), frame.astype(np.float32))
    flat = cv2.warpPerspective(photo, matrix, (w, h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
    quality = int(rng.integers(_JPEG_QUALITY[0], _JPEG_QUALITY[1] + 1))
    data = cv2.imencode(".jpg", flat, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()

    def moved(quad: list[list[float]]) -> list[list[float]]:
        pts = cv2.perspectiveTransform(np.array(quad, np.float32).reshape(-1, 1, 2), matrix).reshape(-1, 2)
        return [[round(float(x), 1), round(float(y), 1)] for x, y in pts]

    cut = dict(truth)
    cut.update(
        card_quad_xy=[[round(float(x), 1), round(float(y), 1)] for x, y in frame],
        field_quads_xy={k: moved(q) for k, q in truth["field_quads_xy"].items()},
        size_wh=[w, h],
        jpeg_quality=quality,
        rotation_deg=180.0 if frame[0, 0] > 0 else 0.0,
        card_px_per_mm=round(w / CARD_W_MM, 2),
    )
    return data, cut
