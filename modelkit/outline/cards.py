"""Card faces to place in a scene: permits from our generator, and card-like designs that are not permits
(bank cards, staff badges, other IDs, pale and dark, with and without photos), so the network learns
"an ID-1 card" and not "our card". RGB uint8 with an alpha of the rounded corners."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from benchmarks.synth import assets
from benchmarks.synth.card import render_card
from benchmarks.synth.data import make_identity

CARD_WH_MM = (85.6, 54.0)
_TEXT = "中华人民共和国居民身份证银行卡借记卡员工证工作证学生证会员卡姓名性别民族出生住址有效期限签发机关公司部门编号"


@dataclass(frozen=True, slots=True)
class CardFace:
    rgb: np.ndarray
    alpha: np.ndarray
    kind: str  # "permit" or "other"


def rounded_alpha(w: int, h: int, radius_px: float) -> np.ndarray:
    alpha = np.zeros((h, w), np.uint8)
    r = max(1, int(radius_px))
    cv2.rectangle(alpha, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(alpha, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (w - 1 - r, h - 1 - r), (r, h - 1 - r)):
        cv2.circle(alpha, (cx, cy), r, 255, -1, cv2.LINE_AA)
    return alpha


def permit_face(rng: np.random.Generator, px_per_mm: float) -> CardFace:
    card = render_card(make_identity(rng), int(rng.integers(2)), rng, px_per_mm,
                       face_present=bool(rng.random() < 0.9))
    return CardFace(card.rgb, card.alpha, "permit")


def _palette(rng: np.random.Generator) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    pale = rng.random() < 0.5
    base = rng.uniform(200, 252, 3) if pale else rng.uniform(10, 200, 3)
    ink = rng.uniform(0, 70, 3) if pale or base.mean() > 140 else rng.uniform(190, 255, 3)
    return tuple(int(c) for c in base), tuple(int(c) for c in ink)  # type: ignore[return-value]


def other_face(rng: np.random.Generator, px_per_mm: float) -> CardFace:
    w, h = round(CARD_WH_MM[0] * px_per_mm), round(CARD_WH_MM[1] * px_per_mm)
    if rng.random() < 0.25:  # a portrait card (badge) now and then
        w, h = h, w
    base, ink = _palette(rng)
    img = Image.new("RGB", (w, h), base)
    draw = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(0, 5))):  # bands, waves, blocks of colour
        c = tuple(int(v) for v in np.clip(np.array(base) + rng.uniform(-80, 80, 3), 0, 255))
        x0, y0 = rng.uniform(-0.2, 1.0) * w, rng.uniform(-0.2, 1.0) * h
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x0 + rng.uniform(0.1, 1.2) * w, y0 + rng.uniform(0.05, 0.5) * h), fill=c)
        else:
            r = rng.uniform(0.1, 0.8) * h
            draw.ellipse((x0 - r, y0 - r, x0 + r, y0 + r), fill=c)
    if rng.random() < 0.5:  # a photo block
        pw, ph = int(w * rng.uniform(0.2, 0.35)), int(h * rng.uniform(0.35, 0.6))
        px, py = int(rng.uniform(0.05, 0.95) * (w - pw)), int(rng.uniform(0.1, 0.9) * (h - ph))
        shade = tuple(int(v) for v in rng.uniform(60, 230, 3))
        draw.rectangle((px, py, px + pw, py + ph), fill=shade)
        draw.ellipse((px + pw * 0.25, py + ph * 0.15, px + pw * 0.75, py + ph * 0.6), fill=(200, 160, 130))
    if rng.random() < 0.4:  # a chip
        cx, cy = w * rng.uniform(0.1, 0.3), h * rng.uniform(0.3, 0.6)
        draw.rounded_rectangle((cx, cy, cx + 10 * px_per_mm, cy + 8 * px_per_mm), radius=px_per_mm,
                               fill=(200, 170, 90))
    spec = assets.LABEL_FONTS[int(rng.integers(len(assets.LABEL_FONTS)))]
    for _ in range(int(rng.integers(1, 8))):  # lines of text or digits
        size = int(px_per_mm * rng.uniform(2.0, 5.0))
        n = int(rng.integers(3, 14))
        if rng.random() < 0.4:
            text = "".join(str(d) for d in rng.integers(0, 10, n))
        else:
            start = int(rng.integers(0, len(_TEXT) - n))
            text = _TEXT[start : start + n]
        draw.text((rng.uniform(0.03, 0.6) * w, rng.uniform(0.03, 0.9) * h), text, fill=ink,
                  font=assets.font(spec, size))
    rgb = np.asarray(img)
    return CardFace(np.ascontiguousarray(rgb), rounded_alpha(w, h, 3.0 * px_per_mm), "other")


def card_pool(rng: np.random.Generator, n_permits: int, n_others: int, px_per_mm: float = 7.0) -> list[CardFace]:
    """Faces rendered once; scenes reuse them under fresh poses, lights and cameras."""
    return [permit_face(rng, px_per_mm) for _ in range(n_permits)] + [
        other_face(rng, px_per_mm) for _ in range(n_others)
    ]
