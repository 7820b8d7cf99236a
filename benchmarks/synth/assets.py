"""Expensive things built once per process and cached: fonts, face crops, guilloche backgrounds.

Face photos are never copied into the repository: they come from scikit-image / matplotlib sample data
(packages, so a clone renders the same photos anywhere), plus any photos in `$HMTOCR_FACES_DIR` when it
is set (a convenience for more variety; photos rendered with it differ from the default ones).
"""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import ImageFont

log = logging.getLogger(__name__)

CARD_W_MM, CARD_H_MM = 85.6, 54.0
MASTER_PX_PER_MM = 16.0  # resolution of the cached guilloche backgrounds

_NOTO = "/usr/share/fonts/opentype/noto"
_FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/wqy",
              "/usr/share/fonts/truetype/arphic", "/usr/share/fonts/truetype/dejavu")


@dataclass(frozen=True, slots=True)
class FontSpec:
    """A face inside a font file (`index` into a .ttc collection) and a short name for the truth."""

    name: str
    path: str
    index: int = 0


# Value fonts (black text): mostly Hei (sans) faces as on the real card, sometimes others.
VALUE_FONTS: tuple[tuple[FontSpec, float], ...] = (
    (FontSpec("noto-sans-sc", f"{_NOTO}/NotoSansCJK-Regular.ttc", 2), 0.30),
    (FontSpec("noto-sans-sc-bold", f"{_NOTO}/NotoSansCJK-Bold.ttc", 2), 0.10),
    (FontSpec("wqy-zenhei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0), 0.22),
    (FontSpec("wqy-microhei", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0), 0.20),
    (FontSpec("noto-serif-sc", f"{_NOTO}/NotoSerifCJK-Regular.ttc", 2), 0.08),
    (FontSpec("ar-pl-uming", "/usr/share/fonts/truetype/arphic/uming.ttc", 0), 0.05),
    (FontSpec("ar-pl-ukai", "/usr/share/fonts/truetype/arphic/ukai.ttc", 0), 0.05),
)
LABEL_FONTS: tuple[FontSpec, ...] = (
    FontSpec("noto-sans-sc", f"{_NOTO}/NotoSansCJK-Regular.ttc", 2),
    FontSpec("noto-sans-sc-bold", f"{_NOTO}/NotoSansCJK-Bold.ttc", 2),
    FontSpec("wqy-zenhei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
TITLE_FONTS: tuple[FontSpec, ...] = (
    FontSpec("noto-sans-sc-bold", f"{_NOTO}/NotoSansCJK-Bold.ttc", 2),
    FontSpec("noto-serif-sc-bold", f"{_NOTO}/NotoSerifCJK-Bold.ttc", 2),
    FontSpec("wqy-zenhei", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
)
DIGIT_FONTS: tuple[FontSpec, ...] = (
    FontSpec("dejavu-sans-mono-bold", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"),
    FontSpec("noto-sans-mono-cjk-sc-bold", f"{_NOTO}/NotoSansCJK-Bold.ttc", 7),
    FontSpec("dejavu-sans-mono", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"),
)


@functools.lru_cache(maxsize=512)
def font(spec: FontSpec, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(spec.path, max(4, size_px), index=spec.index)


def pick_value_font(rng: np.random.Generator) -> FontSpec:
    weights = np.array([w for _, w in VALUE_FONTS])
    i = int(rng.choice(len(VALUE_FONTS), p=weights / weights.sum()))
    return VALUE_FONTS[i][0]


# ----------------------------------------------------------------------------------------- faces
def faces_dir() -> Path | None:
    """The optional folder of extra face photos (`$HMTOCR_FACES_DIR`); never a path outside it."""
    env = os.environ.get("HMTOCR_FACES_DIR")
    return Path(env) if env else None


def _load_face_sources() -> list[np.ndarray]:
    """RGB photos with one face each: the packages' own, then the optional folder's (sorted by name)."""
    out: list[np.ndarray] = []
    d = faces_dir()
    extra = sorted(p for p in d.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png")) if d else []
    try:
        import skimage.data

        sk_data: Any = skimage.data
        out.append(np.ascontiguousarray(sk_data.astronaut()))
    except Exception as exc:  # pragma: no cover - optional package data
        log.warning("skimage astronaut unavailable: %s", exc)
    try:
        import matplotlib.cbook

        cbook: Any = matplotlib.cbook
        with cbook.get_sample_data("grace_hopper.jpg") as fh:
            buf = np.frombuffer(fh.read(), np.uint8)
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        if img is not None:
            out.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    except Exception as exc:  # pragma: no cover - optional package data
        log.warning("matplotlib grace_hopper unavailable: %s", exc)
    for path in extra:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if img is not None:
            out.append(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
    return out


@dataclass(frozen=True, slots=True)
class FaceSource:
    """A head-and-shoulders crop (RGB) with a soft foreground mask (float32 0..1)."""

    rgb: np.ndarray
    mask: np.ndarray
    face_xywh: tuple[int, int, int, int]  # inside the crop


def _face_box(rgb: np.ndarray) -> tuple[int, int, int, int]:
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    found = cascade.detectMultiScale(gray, 1.1, 5, minSize=(40, 40))
    if len(found) == 0:
        h, w = gray.shape
        return w // 3, h // 5, w // 3, h // 3
    x, y, fw, fh = max(found, key=lambda b: int(b[2]) * int(b[3]))
    return int(x), int(y), int(fw), int(fh)


def _make_face_source(rgb: np.ndarray) -> FaceSource:
    x, y, fw, fh = _face_box(rgb)
    h, w = rgb.shape[:2]
    # head-and-shoulders window: face ~50 % of the width, some room above the hair
    cw = int(fw * 2.1)
    ch = int(cw * 31 / 25)
    cx = x + fw // 2
    x0 = max(0, cx - cw // 2)
    y0 = max(0, y - int(fh * 0.6))
    x1, y1 = min(w, x0 + cw), min(h, y0 + ch)
    crop = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    # scale to a working size and segment the person from the background once (GrabCut)
    scale = 180.0 / crop.shape[1]
    small = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    mask = np.full((sh, sw), cv2.GC_PR_BGD, np.uint8)
    fx0, fy0 = int((x - x0) * scale), int((y - y0) * scale)
    ffw, ffh = int(fw * scale), int(fh * scale)
    # probable foreground: head ellipse + shoulders; sure foreground: the inner face
    cv2.ellipse(mask, (fx0 + ffw // 2, fy0 + ffh // 2), (int(ffw * 0.75), int(ffh * 0.95)), 0, 0, 360,
                cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (max(0, fx0 - ffw // 2), fy0 + int(ffh * 1.25)), (min(sw, fx0 + ffw * 3 // 2), sh),
                  cv2.GC_PR_FGD, -1)
    cv2.rectangle(mask, (fx0 + ffw // 5, fy0 + ffh // 5), (fx0 + ffw * 4 // 5, fy0 + ffh * 4 // 5), cv2.GC_FGD, -1)
    mask[:, :3] = cv2.GC_BGD
    mask[:, -3:] = cv2.GC_BGD
    mask[:3, :] = cv2.GC_BGD
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    fg: np.ndarray
    grab_cut: Any = cv2.grabCut
    try:
        grab_cut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), mask, None, bgd, fgd, 2, cv2.GC_INIT_WITH_MASK)
        fg = np.where((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD), 1.0, 0.0).astype(np.float32)
    except cv2.error:
        fg = np.where(mask >= cv2.GC_FGD, 1.0, 0.0).astype(np.float32)
        fg[mask == cv2.GC_PR_BGD] = 0.0
    fg = np.asarray(cv2.GaussianBlur(fg, (0, 0), 1.5), np.float32)
    return FaceSource(rgb=small, mask=fg, face_xywh=(fx0, fy0, ffw, ffh))


@functools.lru_cache(maxsize=1)
def face_sources() -> tuple[FaceSource, ...]:
    return tuple(_make_face_source(img) for img in _load_face_sources())


# ------------------------------------------------------------------------------------- guilloche
def _polyline(img: np.ndarray, pts: np.ndarray, color: tuple[int, int, int], thickness: int = 1) -> None:
    cv2.polylines(img, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], False, color, thickness, cv2.LINE_AA)


@functools.lru_cache(maxsize=8)
def guilloche(side: int, variant: int) -> np.ndarray:
    """Pale card background (RGB uint8) at MASTER_PX_PER_MM, built from rose curves and wave bands."""
    rng = np.random.default_rng(1000 + 17 * side + variant)
    s = MASTER_PX_PER_MM
    w, h = round(CARD_W_MM * s), round(CARD_H_MM * s)
    # subtle gradient between two pale tints
    a = np.array([236, 242, 246], np.float32) + rng.uniform(-6, 6, 3)
    b = np.array([246, 240, 236], np.float32) + rng.uniform(-6, 6, 3)
    if side == 1:
        a, b = a + np.array([2, 0, -4]), b + np.array([0, 4, 2])
    t = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :, None]
    u = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    img = (a * (1 - t) * (1 - 0.3 * u) + b * t * (1 - 0.3 * u) + 0.3 * u * (a + b) / 2).clip(0, 255)
    img = np.ascontiguousarray(img.astype(np.uint8))
    tints = [(200, 215, 238), (238, 205, 215), (205, 232, 212), (222, 215, 240), (240, 225, 200)]
    # horizontal guilloche ribbons: many phase-shifted sinusoids
    xs = np.arange(0, w, 2, dtype=np.float32)
    for _ in range(3):
        y0 = rng.uniform(0.1, 0.9) * h
        amp, lam = rng.uniform(0.04, 0.12) * h, rng.uniform(0.15, 0.4) * w
        color = tints[int(rng.integers(len(tints)))]
        for k in range(18):
            ph = k * 2 * np.pi / 18
            ys = y0 + amp * np.sin(2 * np.pi * xs / lam + ph) * np.cos(np.pi * xs / (1.7 * lam) + ph / 3)
            _polyline(img, np.stack([xs, ys], 1), color)
    # rose curves r = R cos(k theta) + inner hypotrochoids
    th = np.linspace(0, 2 * np.pi * 7, 5000, dtype=np.float32)
    for _ in range(4 if side == 0 else 3):
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.2, 0.8) * h
        rr = rng.uniform(0.15, 0.35) * h
        kk = float(rng.choice([5 / 7, 7 / 9, 4 / 5, 6 / 7]))
        color = tints[int(rng.integers(len(tints)))]
        for j in range(6):
            r = rr * (0.6 + 0.4 * np.cos(kk * th)) + j * 3
            _polyline(img, np.stack([cx + r * np.cos(th + j * 0.05), cy + r * np.sin(th + j * 0.05)], 1), color)
    # fine diagonal micro-lines, very faint
    fine = img.astype(np.int16)
    yy, xx = np.mgrid[0:h, 0:w]
    fine -= (3 * (np.sin((xx + yy) * 0.9) > 0.7)).astype(np.int16)[..., None]
    return np.ascontiguousarray(fine.clip(0, 255).astype(np.uint8))


@functools.lru_cache(maxsize=64)  # 2 sides x 3 variants x the render-scale ladder
def guilloche_at(side: int, variant: int, px_per_mm: float) -> np.ndarray:
    master = guilloche(side, variant)
    w, h = round(CARD_W_MM * px_per_mm), round(CARD_H_MM * px_per_mm)
    interp = cv2.INTER_AREA if px_per_mm < MASTER_PX_PER_MM else cv2.INTER_LINEAR
    return cv2.resize(master, (w, h), interpolation=interp)


N_GUILLOCHE_VARIANTS = 3
