"""The `wild` tier: photos drawn from ranges wider than the ones the engine is tuned on.

The card comes from `render_card(wild=True)` (every font family, pale labels, blocks moved up to 2 mm,
address wraps from 9 to 13 glyphs, portraits with the face 25-60 % of their width); the photo from
`capture` (any turn and perspective, the card 20-95 % of the frame's width, surfaces from pale-on-pale to
wood, stone and printed paper, fingers, shadows, glare, colour casts, scans, photocopies, screens, night
and motion), 600 to 4000 px on the long side. The whole card stays in the frame: cut cards are specials."""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from benchmarks.synth import card as cardmod
from benchmarks.synth import photo
from benchmarks.synth.capture import capture, light, occlude, warp_face
from benchmarks.synth.data import make_identity
from benchmarks.synth.surfaces import surface

CARD_W_MM, CARD_H_MM = 85.6, 54.0
ASPECTS = (4 / 3, 3 / 4, 16 / 9, 9 / 16, 1.0, 3 / 2, 2 / 3)
_SURFACE_LONG_PX = 1024  # surfaces are drawn at most this large and scaled up: their texture, not their pixels


def _out_size(rng: np.random.Generator) -> tuple[int, int]:
    long_side = math.exp(rng.uniform(math.log(600), math.log(4000)))
    aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
    w, h = (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)
    return max(300, round(w)), max(300, round(h))


def _pose(rng: np.random.Generator, out_wh: tuple[int, int]) -> np.ndarray:
    """Corners (lt, rt, rb, lb) of a card 20-95 % of the frame's width, whole inside the frame."""
    w, h = out_wh
    turn = rng.random()
    rot = (rng.normal(0, 6) if turn < 0.75 else rng.integers(1, 4) * 90 + rng.normal(0, 6) if turn < 0.9
           else rng.uniform(0, 360))
    q0 = photo.posed_quad(rng, CARD_W_MM / CARD_H_MM, float(rng.uniform(0, 35)), float(rot))
    span = q0.max(0) - q0.min(0)
    share = rng.uniform(0.2, 0.95)
    scale = min(share * w / span[0], 0.97 * w / span[0], 0.97 * h / span[1])
    q = (q0 - q0.min(0)) * scale
    room = np.array([w, h]) - (q.max(0) - q.min(0))
    return np.asarray(q + rng.uniform(0, 1, 2) * np.maximum(room, 0), np.float64)


def wild_card(rng: np.random.Generator, side: int) -> tuple[bytes, dict[str, Any]]:
    identity = make_identity(rng)
    out_wh = _out_size(rng)
    quad = _pose(rng, out_wh)
    edges = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    px_per_mm = float(max(edges[0], edges[2]) / CARD_W_MM)
    scale = min(24.0, max(6.0, px_per_mm * 1.15))
    face_present = side == 0
    flat = cardmod.render_card(identity, side, rng, scale, face_present=face_present, wild=True)
    f = min(1.0, _SURFACE_LONG_PX / max(out_wh))
    small_wh = (max(8, round(out_wh[0] * f)), max(8, round(out_wh[1] * f)))
    bg_small, bg_kind = surface(rng, small_wh)
    img = cv2.resize(bg_small, out_wh, interpolation=cv2.INTER_LINEAR).astype(np.float32)
    rgb, alpha, hmat = warp_face(flat.rgb, flat.alpha, quad, out_wh)
    if rng.random() < 0.5:  # the card's own soft shadow
        shadow = cv2.GaussianBlur(alpha, (0, 0), max(1.0, 0.01 * max(out_wh) * rng.uniform(0.3, 1.5)))
        dx, dy = rng.normal(0, 0.006 * max(out_wh), 2)
        shadow = cv2.warpAffine(shadow, np.array([[1, 0, dx], [0, 1, dy]], np.float32), out_wh)
        img *= 1 - rng.uniform(0.1, 0.45) * shadow[..., None]
    img = img * (1 - alpha[..., None]) + rgb.astype(np.float32) * alpha[..., None]
    fingers = rng.random() < 0.1
    if fingers:
        occlude(rng, img, quad)
    img = light(rng, img, alpha)
    img8, style = capture(rng, img)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img8, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    s = flat.px_per_mm

    def to_photo(box: tuple[float, float, float, float]) -> list[list[float]]:
        corners = np.array([[box[0], box[1]], [box[2], box[1]], [box[2], box[3]], [box[0], box[3]]]) * s
        return [[round(float(x), 1), round(float(y), 1)] for x, y in photo.map_points(hmat, corners)]

    truth: dict[str, Any] = {
        "tier": "wild",
        "kind": "card",
        "side": side,
        "fields": identity.fields(side),
        "region": identity.region,
        "card_quad_xy": [[round(float(x), 1), round(float(y), 1)] for x, y in quad],
        "completeness": 0,
        "cut_fields": [],
        "occluded_fields": [],
        "glare_fields": [],
        "face_present": face_present,
        "expected_error": None,
        "injected_logic_errors": [],
        "size_wh": list(out_wh),
        "special": None,
        "field_quads_xy": {k: to_photo(b) for k, b in flat.field_boxes_mm.items()},
        "font": flat.fonts,
        "background": bg_kind,
        "capture": style,
        "fingers": fingers,
        "card_px_per_mm": round(px_per_mm, 2),
    }
    return buf.tobytes(), truth
