"""Procedural surfaces a card lies on, drawn wider than any one photo set: wood, fabric, stone, concrete,
paper (plain, printed, lined), desk mats, solids, gradients, clutter and pale-on-pale. RGB uint8."""

from __future__ import annotations

import math

import cv2
import numpy as np

SURFACES = ("wood", "fabric", "stone", "concrete", "paper", "printed", "mat", "solid", "gradient", "clutter", "pale")


def _lowfreq(rng: np.random.Generator, w: int, h: int, cells: int) -> np.ndarray:
    small = rng.random((cells, cells)).astype(np.float32)
    out: np.ndarray = np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), np.float32)
    return out


def _colour(rng: np.random.Generator, lo: float, hi: float, sat: float = 0.35) -> np.ndarray:
    grey = rng.uniform(lo, hi)
    tint = rng.uniform(-1, 1, 3) * sat * min(grey, 255 - grey)
    colour: np.ndarray = np.clip(grey + tint, 0, 255).astype(np.float32)
    return colour


def _shade(base: np.ndarray, v: np.ndarray) -> np.ndarray:
    shaded: np.ndarray = np.clip(base[None, None, :] * v[..., None], 0, 255).astype(np.uint8)
    return shaded


def _wood(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = _colour(rng, 60, 210, 0.6) * np.array([1.15, 0.9, 0.7], np.float32)
    ang = rng.uniform(0, math.pi)
    u = yy * math.cos(ang) - xx * math.sin(ang) + _lowfreq(rng, w, h, 4) * rng.uniform(5, 40)
    n = 4 * (w + h)
    rings = cv2.GaussianBlur(rng.random((1, n)).astype(np.float32), (0, 0), rng.uniform(1.0, 5.0)).ravel()
    rings = (rings - rings.min()) / (np.ptp(rings) + 1e-6)
    streaks = cv2.GaussianBlur(rng.random((1, n)).astype(np.float32), (0, 0), 0.7).ravel()
    idx = np.clip((u + n / 2).astype(np.int32), 0, n - 1)
    v = 0.65 + 0.35 * rings[idx] + 0.15 * (streaks[idx] - 0.5) + 0.03 * rng.standard_normal((h, w)).astype(np.float32)
    return _shade(base, v)


def _fabric(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    per = rng.uniform(1.5, 6.0)
    ang = rng.uniform(0, math.pi)
    a = xx * math.cos(ang) + yy * math.sin(ang)
    b = -xx * math.sin(ang) + yy * math.cos(ang)
    weave = np.sin(a * 2 * math.pi / per) * np.sin(b * 2 * math.pi / per)
    v = 0.88 + 0.08 * weave + 0.12 * (_lowfreq(rng, w, h, 5) - 0.5)
    return _shade(_colour(rng, 20, 235, 0.7), v)


def _stone(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    v = np.zeros((h, w), np.float32)
    for sigma, amp in ((0.6, 0.25), (2.0, 0.2), (6.0, 0.15)):
        v += amp * cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), sigma) * sigma**0.5
    v = 0.8 + v * rng.uniform(0.4, 1.3)
    speck = rng.random((h, w)) < rng.uniform(0.0, 0.03)
    v[speck] *= rng.uniform(0.3, 1.6)
    return _shade(_colour(rng, 60, 220, 0.25), v)


def _concrete(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    v = 0.85 + 0.2 * (_lowfreq(rng, w, h, 7) - 0.5) + 0.06 * rng.standard_normal((h, w)).astype(np.float32)
    return _shade(_colour(rng, 100, 200, 0.08), v)


def _paper(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    v = 0.96 + 0.04 * _lowfreq(rng, w, h, 9) + 0.015 * rng.standard_normal((h, w)).astype(np.float32)
    return _shade(_colour(rng, 215, 252, 0.06), v)


def _printed(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    img = _paper(rng, w, h)
    pitch = rng.uniform(7, 22)
    ink = tuple(int(c) for c in _colour(rng, 10, 90, 0.3))
    y = rng.uniform(0, pitch)
    x_left = rng.uniform(0, w * 0.2)
    while y < h:
        x = x_left
        x_end = w - rng.uniform(0, w * 0.25)
        while x < x_end:  # words as runs of small blocks, the texture print makes from afar
            word = rng.uniform(pitch * 0.6, pitch * 4)
            cv2.rectangle(img, (int(x), int(y)), (int(min(x + word, x_end)), int(y + pitch * 0.45)), ink, -1)
            x += word + pitch * rng.uniform(0.3, 0.7)
        y += pitch
    return np.asarray(cv2.GaussianBlur(img, (0, 0), 0.7))


def _mat(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    img = _shade(_colour(rng, 15, 120, 0.5), 0.95 + 0.05 * _lowfreq(rng, w, h, 4))
    step = rng.uniform(10, 40)
    line = tuple(int(c) for c in _colour(rng, 90, 230, 0.3))
    if rng.random() < 0.7:
        for k in range(int(w / step) + 1):
            cv2.line(img, (int(k * step), 0), (int(k * step), h), line, 1, cv2.LINE_AA)
        for k in range(int(h / step) + 1):
            cv2.line(img, (0, int(k * step)), (w, int(k * step)), line, 1, cv2.LINE_AA)
    return img


def _solid(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    return _shade(_colour(rng, 5, 250, 0.8), 0.97 + 0.06 * _lowfreq(rng, w, h, 3))


def _gradient(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    a, b = _colour(rng, 10, 250, 0.6), _colour(rng, 10, 250, 0.6)
    t = np.clip(_lowfreq(rng, w, h, 2) * 1.4 - 0.2, 0, 1)[..., None]
    return np.clip(a * (1 - t) + b * t, 0, 255).astype(np.uint8)


def _pale(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """Pale-on-pale: a surface as light as the card itself (white desk, sheet, light fabric)."""
    kind = rng.integers(3)
    if kind == 0:
        return _paper(rng, w, h)
    img = _fabric(rng, w, h) if kind == 1 else _concrete(rng, w, h)
    pale: np.ndarray = np.clip(img.astype(np.float32) * 0.25 + rng.uniform(170, 215), 0, 255).astype(np.uint8)
    return pale


def _clutter(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    img = SURFACE_MAKERS[str(rng.choice(["wood", "fabric", "mat", "solid", "paper"]))](rng, w, h)
    for _ in range(int(rng.integers(3, 14))):
        colour = tuple(int(c) for c in _colour(rng, 10, 250, 0.8))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        sx, sy = rng.uniform(0.05, 0.5) * w, rng.uniform(0.05, 0.5) * h
        shape = rng.integers(4)
        if shape == 0:  # a rotated box: a phone, a book, a sheet
            box = cv2.boxPoints(((cx, cy), (sx, sy), rng.uniform(0, 180))).astype(np.int32)
            cv2.fillConvexPoly(img, box, colour, cv2.LINE_AA)
        elif shape == 1:
            cv2.ellipse(img, (int(cx), int(cy)), (int(sx / 2), int(sy / 2)), rng.uniform(0, 180), 0, 360, colour, -1)
        elif shape == 2:
            cv2.line(img, (int(cx), int(cy)), (int(cx + sx), int(cy + sy)), colour, int(rng.integers(1, 10)))
        else:  # a printed sheet with its own straight edges
            box = cv2.boxPoints(((cx, cy), (sx, sx * 1.41), rng.uniform(0, 180))).astype(np.int32)
            sheet = _printed(rng, w, h)
            mask = np.zeros((h, w), np.uint8)
            cv2.fillConvexPoly(mask, box, 255)
            img[mask > 0] = sheet[mask > 0]
    return img


SURFACE_MAKERS = {
    "wood": _wood, "fabric": _fabric, "stone": _stone, "concrete": _concrete, "paper": _paper,
    "printed": _printed, "mat": _mat, "solid": _solid, "gradient": _gradient, "clutter": _clutter, "pale": _pale,
}


def surface(rng: np.random.Generator, size_wh: tuple[int, int], kind: str | None = None) -> tuple[np.ndarray, str]:
    """A surface of `size_wh` (RGB uint8) and its kind."""
    kind = kind or str(rng.choice(SURFACES))
    return SURFACE_MAKERS[kind](rng, *size_wh), kind
