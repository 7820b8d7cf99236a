"""One training scene: a card face posed on a surface, under a light and through a camera, at the network's
input size, with the card's whole (amodal) mask and its four corners. Ranges are wider than any test set's:
cards from 12 % to 95 % of the frame, any angle, cut by the frame, under fingers and sleeves, scanned,
photocopied, shot off a screen, at night, moving."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from benchmarks.synth.capture import capture, light, occlude, pose_quad, warp_face
from benchmarks.synth.surfaces import surface
from modelkit.outline.cards import CardFace

ASPECTS = (4 / 3, 3 / 4, 16 / 9, 9 / 16, 1.0, 3 / 2, 2 / 3, 2.0, 0.5)


@dataclass(frozen=True, slots=True)
class Scene:
    img_rgb: np.ndarray  # S x S x 3 uint8 (the photo resized to the square input, aspect not kept)
    mask: np.ndarray  # S x S float32, 1 on the whole card (occluded parts too), 0 elsewhere
    quad_xy: np.ndarray  # (4, 2) float32 corners in input pixels (zeros when there is no card)
    has_card: bool


def _scan(rng: np.random.Generator, work_wh: tuple[int, int]) -> bool:
    return bool(rng.random() < 0.08)


def make_scene(rng: np.random.Generator, faces: list[CardFace], size: int) -> Scene:
    aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
    long_side = 2 * size
    work_wh = (long_side, round(long_side / aspect)) if aspect >= 1 else (round(long_side * aspect), long_side)
    scan = _scan(rng, work_wh)
    bg, _ = surface(rng, work_wh, "paper" if scan else None)
    has_card = rng.random() > 0.05
    mask = np.zeros(work_wh[::-1], np.float32)
    quad = np.zeros((4, 2), np.float64)
    img = bg.astype(np.float32)
    if has_card:
        face = faces[int(rng.integers(len(faces)))]
        quad = pose_quad(rng, face.alpha.shape[::-1], work_wh)
        rgb, alpha, _ = warp_face(face.rgb, face.alpha, quad, work_wh)
        if rng.random() < 0.12:  # a plastic sleeve: its own edges a little outside the card's
            sleeve = (quad - quad.mean(0)) * rng.uniform(1.04, 1.15) + quad.mean(0)
            cv2.fillConvexPoly(img, sleeve.astype(np.int32), tuple(float(c) for c in rng.uniform(150, 255, 3)),
                               cv2.LINE_AA)
            img = img * 0.85 + bg.astype(np.float32) * 0.15
        if rng.random() < 0.5:  # the card's own soft shadow on the surface
            shadow = cv2.GaussianBlur(alpha, (0, 0), rng.uniform(2, 12))
            dx, dy = rng.normal(0, 6, 2)
            shadow = cv2.warpAffine(shadow, np.array([[1, 0, dx], [0, 1, dy]], np.float32), work_wh)
            img *= 1 - rng.uniform(0.1, 0.5) * shadow[..., None]
        img = img * (1 - alpha[..., None]) + rgb.astype(np.float32) * alpha[..., None]
        mask = alpha
        if rng.random() < 0.2:
            occlude(rng, img, quad)
    img = light(rng, img, mask) if not scan else img
    img8, _ = capture(rng, img.astype(np.float32))
    sx, sy = size / work_wh[0], size / work_wh[1]
    img_s = cv2.resize(img8, (size, size), interpolation=cv2.INTER_AREA)
    mask_s = cv2.resize(mask, (size, size), interpolation=cv2.INTER_AREA)
    return Scene(img_s, mask_s.astype(np.float32), (quad * [sx, sy]).astype(np.float32), has_card)
