"""Pose, light and camera for a card on a surface, drawn from ranges wider than any tuned set: the card's
place and turn (any angle, perspective, sometimes cut by the frame), fingers and objects over it, uneven
light, soft shadows, glare, colour casts, and the machine that took the picture (phone, flatbed scan,
black-and-white photocopy, screen re-shoot with moire, night noise, motion blur), ending in a JPEG."""

from __future__ import annotations

import math

import cv2
import numpy as np

CAPTURES = ("phone", "phone", "phone", "scan", "copy", "screen", "night", "motion")


def pose_quad(rng: np.random.Generator, face_wh: tuple[int, int], work_wh: tuple[int, int]) -> np.ndarray:
    """Card corners (lt, rt, rb, lb) in work pixels: scale, any rotation, perspective, sometimes cut."""
    fw, fh = face_wh
    ww, wh = work_wh
    frac = rng.uniform(0.12, 0.95) ** 0.8  # the card's width as a share of the frame's shorter side... roughly
    scale = frac * min(ww, wh) / max(fw, fh) * rng.uniform(0.8, 1.25)
    pts = np.array([[0, 0], [fw, 0], [fw, fh], [0, fh]], np.float64) - [fw / 2, fh / 2]
    pts *= scale
    tilt = rng.uniform(0, 0.35) if rng.random() < 0.8 else rng.uniform(0.35, 0.6)
    edge = int(rng.integers(4))  # one side recedes: perspective
    pts[edge] *= 1 - tilt / 2
    pts[(edge + 1) % 4] *= 1 - tilt / 2
    pts += rng.normal(0, 0.03, pts.shape) * scale * max(fw, fh)
    ang = rng.uniform(0, 2 * math.pi) if rng.random() < 0.5 else rng.normal(0, 0.25) + rng.integers(4) * math.pi / 2
    rot = np.array([[math.cos(ang), -math.sin(ang)], [math.sin(ang), math.cos(ang)]])
    pts = pts @ rot.T
    lo, hi = pts.min(0), pts.max(0)
    span = hi - lo
    cut = rng.random() < 0.15
    room = np.array([ww, wh]) - span
    if cut or np.any(room < 0):
        centre = np.array([rng.uniform(0.1, 0.9) * ww, rng.uniform(0.1, 0.9) * wh])
    else:
        centre = np.array([rng.uniform(0, room[0]), rng.uniform(0, room[1])]) + span / 2
    return np.asarray(pts - (lo + hi) / 2 + centre, np.float64)


def warp_face(
    rgb_in: np.ndarray, alpha_in: np.ndarray, quad: np.ndarray, work_wh: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = alpha_in.shape
    corners = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    hmat = cv2.getPerspectiveTransform(corners, quad.astype(np.float32))
    rgb = cv2.warpPerspective(rgb_in, hmat, work_wh, flags=cv2.INTER_AREA)
    alpha = cv2.warpPerspective(alpha_in, hmat, work_wh, flags=cv2.INTER_LINEAR)
    return rgb, alpha.astype(np.float32) / 255.0, hmat


def occlude(rng: np.random.Generator, img: np.ndarray, quad: np.ndarray) -> None:
    """Fingers or a hand over an edge, a coin or pen on the card: they hide the card, not its outline."""
    for _ in range(int(rng.integers(1, 4))):
        i = int(rng.integers(4))
        t = rng.uniform(0.1, 0.9)
        p = quad[i] * (1 - t) + quad[(i + 1) % 4] * t
        skin = np.clip(rng.normal([200, 150, 120], 30), 30, 255)
        if rng.random() < 0.3:
            skin = rng.uniform(0, 255, 3)
        length = np.linalg.norm(quad[1] - quad[0]) * rng.uniform(0.1, 0.35)
        cv2.ellipse(img, (int(p[0]), int(p[1])), (int(length), int(length * rng.uniform(0.25, 0.45))),
                    rng.uniform(0, 180), 0, 360, tuple(float(c) for c in skin), -1, cv2.LINE_AA)


def light(rng: np.random.Generator, img: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    f = img.astype(np.float32)
    gain = 0.55 + 0.7 * cv2.resize(rng.random((3, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    gain = np.clip(gain, 0.35, 1.3) if rng.random() < 0.6 else np.ones_like(gain) * rng.uniform(0.6, 1.1)
    if rng.random() < 0.4:  # a soft shadow across the scene (a phone, a hand)
        shadow = np.zeros((h, w), np.float32)
        box = cv2.boxPoints(((rng.uniform(0, w), rng.uniform(0, h)), (rng.uniform(0.2, 1) * w, rng.uniform(0.2, 1) * h),
                             rng.uniform(0, 180))).astype(np.int32)
        cv2.fillConvexPoly(shadow, box, 1.0)
        gain *= 1 - rng.uniform(0.2, 0.6) * cv2.GaussianBlur(shadow, (0, 0), rng.uniform(3, 20))
    f *= gain[..., None]
    if rng.random() < 0.35:  # glare: a saturating bloom, often on the card
        ys, xs = np.nonzero(alpha > 0.5)
        k = int(rng.integers(len(ys))) if len(ys) and rng.random() < 0.8 else None
        cx, cy = (xs[k], ys[k]) if k is not None else (rng.uniform(0, w), rng.uniform(0, h))
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        r = rng.uniform(0.03, 0.25) * max(w, h)
        f += rng.uniform(80, 300) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
    cast = rng.normal(1.0, 0.08, 3).astype(np.float32)
    return np.asarray(np.clip(f * cast, 0, 255), np.float32)


def capture(rng: np.random.Generator, img: np.ndarray, style: str | None = None) -> tuple[np.ndarray, str]:
    """The camera or machine that made the picture (decoded back from its JPEG), and its kind."""
    style = style or str(rng.choice(CAPTURES))
    out = img
    if style == "copy":
        grey = cv2.cvtColor(out.astype(np.uint8), cv2.COLOR_RGB2GRAY).astype(np.float32)
        grey = np.clip((grey - 128) * rng.uniform(1.2, 2.2) + 128 + rng.uniform(-20, 40), 0, 255)
        grey += rng.normal(0, 6, grey.shape)
        out = np.repeat(grey[..., None], 3, 2)
    elif style == "screen":
        h, w = out.shape[:2]
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        f1, f2, a = rng.uniform(0.5, 1.5), rng.uniform(0.5, 1.5), rng.uniform(0, math.pi)
        moire = np.sin(f1 * (xx * math.cos(a) + yy * math.sin(a))) * np.sin(f2 * (yy * math.cos(a) - xx * math.sin(a)))
        out = out * (1 + rng.uniform(0.05, 0.2) * moire[..., None]) * np.array([0.9, 1.0, 1.1], np.float32)
    elif style == "night":
        out = out * rng.uniform(0.25, 0.55) + rng.normal(0, rng.uniform(8, 20), out.shape)
    elif style == "motion":
        k = int(rng.integers(3, 11))
        kernel = np.zeros((k, k), np.float32)
        kernel[k // 2, :] = 1.0 / k
        rot = cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), rng.uniform(0, 180), 1.0)
        out = cv2.filter2D(out, -1, cv2.warpAffine(kernel, rot, (k, k)))
    if style != "scan" and rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.3, 2.5))
    out = np.clip(out + rng.normal(0, rng.uniform(0, 6), out.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 96))])
    decoded = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else None
    return np.asarray(decoded if decoded is not None else out, np.uint8), style
