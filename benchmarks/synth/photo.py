"""Turn a flat card into a phone photo: pose, background, lighting, blur, noise, JPEG.

Geometry is exact: a homography maps card pixels to image pixels, so the card corners and the field
boxes of the ground truth are where the card is drawn. Whole-image effects work on low-resolution
maps that are scaled up, so large images stay fast.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from benchmarks.synth import assets

Quad = np.ndarray  # (4, 2) float64: lt, rt, rb, lb


@dataclass(frozen=True, slots=True)
class TierParams:
    long_side: tuple[int, int]
    card_frac: tuple[float, float]  # share of the frame's area the card covers (capped so it fits)
    tilt_max_deg: float  # out-of-plane rotation
    quarter_turn_p: float  # share rotated by 90/180/270
    any_angle_p: float
    small_rot_deg: float
    blur_p: float
    blur_mm: tuple[float, float]  # blur scale in card millimetres (so text stays as legible at any size)
    noise_sigma: tuple[float, float]
    jpeg_quality: tuple[int, int]
    light_gain: tuple[float, float]
    gradient: float  # max lighting gradient strength
    glare_p: float
    shadow_p: float
    contrast: tuple[float, float]


TIERS: dict[str, TierParams] = {
    "clean": TierParams((1000, 2400), (0.5, 0.9), 5.0, 0.0, 0.0, 5.0, 0.0, (0.0, 0.0), (0.0, 2.0), (88, 95),
                        (0.97, 1.05), 0.06, 0.0, 0.0, (0.97, 1.0)),
    "photo": TierParams((600, 4000), (0.35, 0.95), 25.0, 0.15, 0.1, 15.0, 0.5, (0.04, 0.15), (1.0, 6.0), (60, 95),
                        (0.75, 1.1), 0.35, 0.2, 0.3, (0.85, 1.0)),
    "hard": TierParams((1400, 3200), (0.2, 0.35), 40.0, 0.2, 0.3, 25.0, 0.9, (0.1, 0.35), (6.0, 16.0), (30, 60),
                       (0.4, 0.75), 0.6, 0.5, 0.5, (0.6, 0.9)),
}
ASPECTS: tuple[float, ...] = (4 / 3, 3 / 4, 16 / 9, 9 / 16, 1.0, 3 / 2, 2 / 3)


def out_size(rng: np.random.Generator, p: TierParams) -> tuple[int, int]:
    # log-uniform, skewed towards the smaller sizes (most phone uploads are resized)
    lo, hi = math.log(p.long_side[0]), math.log(p.long_side[1])
    long_side = math.exp(lo + (hi - lo) * rng.random() ** 1.4)
    aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
    w, h = (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)
    return max(200, round(w)), max(200, round(h))


def rotation_deg(rng: np.random.Generator, p: TierParams) -> float:
    u = rng.random()
    if u < p.quarter_turn_p:
        return float(rng.choice([90.0, 180.0, 270.0]) + rng.uniform(-4, 4))
    if u < p.quarter_turn_p + p.any_angle_p:
        return float(rng.uniform(0, 360))
    return float(rng.uniform(-p.small_rot_deg, p.small_rot_deg))


def posed_quad(rng: np.random.Generator, aspect_wh: float, tilt_max_deg: float, rot_deg: float) -> Quad:
    """Project a flat rectangle (width 1) tilted in 3-D and rotated in-plane; lt, rt, rb, lb; y down."""
    w, h = 1.0, 1.0 / aspect_wh
    pts = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    ax, ay = (np.deg2rad(np.clip(rng.normal(0, tilt_max_deg / 2), -tilt_max_deg, tilt_max_deg)) for _ in range(2))
    rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
    ry = np.array([[math.cos(ay), 0, math.sin(ay)], [0, 1, 0], [-math.sin(ay), 0, math.cos(ay)]])
    t = np.deg2rad(rot_deg)
    rz = np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])
    p3 = pts @ (rz @ rx @ ry).T
    dist = rng.uniform(1.6, 3.0)  # camera distance in card widths: phone-like perspective
    return np.asarray(p3[:, :2] * (dist / (dist + p3[:, 2:3])), np.float64)


MAX_EXTENT = 0.97  # the card's largest extent as a share of the frame's, for a card that must fit


def quad_area(quad: Quad) -> float:
    x, y = quad[:, 0], quad[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def fit_quad(quad: Quad, out_wh: tuple[int, int], frac: float, rng: np.random.Generator) -> Quad:
    """Scale so that the card covers `frac` of the frame's area (as the brief's "card covering 20-95 %
    of the frame" reads), no larger than fits, then place it inside at random."""
    w, h = out_wh
    lo, hi = quad.min(0), quad.max(0)
    ext = hi - lo
    scale = math.sqrt(frac * w * h / max(quad_area(quad), 1e-9))
    scale = min(scale, MAX_EXTENT / max(ext[0] / w, ext[1] / h))
    q = (quad - lo) * scale
    ext = ext * scale
    margin = np.maximum(np.array([w, h]) - ext, 0.0)
    # photographers centre the card: a bell-shaped offset inside the free margin
    offset = margin * (0.5 + 0.5 * (rng.beta(2.0, 2.0, 2) * 2 - 1) * 0.96)
    return np.asarray(q + offset, np.float64)


def homography(card_wh: tuple[int, int], quad: Quad) -> np.ndarray:
    cw, ch = card_wh
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, quad.astype(np.float32)), np.float64)


def map_points(hmat: np.ndarray, pts: np.ndarray) -> np.ndarray:
    p = np.asarray(cv2.perspectiveTransform(pts.reshape(-1, 1, 2).astype(np.float64), hmat))
    return p.reshape(-1, 2)


def box_quad_px(hmat: np.ndarray, box_mm: tuple[float, float, float, float], px_per_mm: float) -> np.ndarray:
    x0, y0, x1, y1 = (v * px_per_mm for v in box_mm)
    return map_points(hmat, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))


# ------------------------------------------------------------------------------------ backgrounds
def _lowfreq(rng: np.random.Generator, w: int, h: int, cells: int = 6) -> np.ndarray:
    small = rng.random((cells, cells)).astype(np.float32)
    return np.asarray(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC))


@functools.lru_cache(maxsize=1)
def _clutter_fonts() -> tuple[assets.FontSpec, ...]:
    return (assets.LABEL_FONTS[0], assets.VALUE_FONTS[2][0], assets.VALUE_FONTS[4][0])


def _muted(rng: np.random.Generator, lo: float, hi: float) -> np.ndarray:
    """A desaturated colour: a grey level plus a small tint."""
    grey = rng.uniform(lo, hi)
    return np.asarray(np.clip(grey + rng.normal(0, 18, 3), 0, 255), np.float32)


_CLUTTER_TEXT = "会议纪要发票收据合同编号金额日期地址电话备注说明客户名称签名盖章有限公司人民币银行账户"


def background(rng: np.random.Generator, out_wh: tuple[int, int]) -> tuple[np.ndarray, str]:
    """A low-resolution background (long side ~512) and its kind; callers scale it up."""
    w, h = out_wh
    f = 512.0 / max(w, h)
    bw, bh = max(8, round(w * f)), max(8, round(h * f))
    kind = str(rng.choice(["wood", "cloth", "paper", "clutter", "plain"], p=[0.3, 0.2, 0.15, 0.2, 0.15]))
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    if kind == "wood":
        base = np.array(rng.choice([[150, 105, 70], [120, 80, 50], [185, 145, 100], [95, 65, 45]]), np.float32)
        warp = _lowfreq(rng, bw, bh, 4) * rng.uniform(8, 30)
        ang = rng.uniform(-0.3, 0.3) + (math.pi / 2 if rng.random() < 0.5 else 0.0)
        u = yy * math.cos(ang) - xx * math.sin(ang) + warp  # across the grain
        n = int(bw + bh) * 2
        streaks = cv2.GaussianBlur(rng.random((1, n)).astype(np.float32), (0, 0), 1.2).ravel()
        rings = cv2.GaussianBlur(rng.random((1, n)).astype(np.float32), (0, 0), 12.0).ravel()
        idx = np.clip((u + n / 4).astype(np.int32), 0, n - 1)
        rings = (rings - rings.min()) / (np.ptp(rings) + 1e-6)
        v = 0.72 + 0.22 * rings[idx] + 0.12 * (streaks[idx] - 0.5) + 0.05 * (_lowfreq(rng, bw, bh, 3) - 0.5)
        img = base[None, None, :] * v[..., None]
    elif kind == "cloth":
        base = _muted(rng, 40, 220)
        per = rng.uniform(2.5, 5.0)
        weave = np.sin(xx * 2 * np.pi / per) * np.sin(yy * 2 * np.pi / per)
        v = 0.9 + 0.06 * weave + 0.1 * (_lowfreq(rng, bw, bh, 4) - 0.5)
        img = base[None, None, :] * v[..., None]
    elif kind == "paper":
        base = np.array(rng.uniform(215, 250, 3), np.float32)
        v = 0.95 + 0.05 * _lowfreq(rng, bw, bh, 8) + 0.02 * rng.standard_normal((bh, bw)).astype(np.float32)
        img = base[None, None, :] * v[..., None]
    else:
        base = _muted(rng, 30, 230)
        v = 0.9 + 0.12 * _lowfreq(rng, bw, bh, 3)
        img = base[None, None, :] * v[..., None]
    img8 = np.ascontiguousarray(img.clip(0, 255).astype(np.uint8))
    if kind == "clutter":
        pil = Image.fromarray(img8)
        d = ImageDraw.Draw(pil)
        for _ in range(int(rng.integers(6, 18))):
            c = tuple(int(v) for v in _muted(rng, 20, 240))
            x0, y0 = float(rng.uniform(0, bw)), float(rng.uniform(0, bh))
            x1, y1 = x0 + float(rng.uniform(20, 250)), y0 + float(rng.uniform(20, 250))
            shape = int(rng.integers(0, 4))
            if shape == 0:
                d.rectangle((x0, y0, x1, y1), fill=c)
            elif shape == 1:
                d.ellipse((x0, y0, x1, y1), fill=c)
            elif shape == 2:
                d.line((x0, y0, x1, y1), fill=c, width=int(rng.integers(2, 12)))
            else:  # a scrap of printed text
                fs = _clutter_fonts()[int(rng.integers(3))]
                size = int(rng.integers(9, 26))
                n = int(rng.integers(4, 14))
                start = int(rng.integers(0, len(_CLUTTER_TEXT) - n))
                d.rectangle((x0 - 4, y0 - 4, x0 + n * size + 4, y0 + size * 2.6), fill=(245, 245, 240))
                for line in range(2):
                    d.text((x0, y0 + line * size * 1.3), _CLUTTER_TEXT[start:start + n], font=assets.font(fs, size),
                           fill=(30, 30, 30))
        img8 = np.asarray(pil)
    return img8, kind


# ----------------------------------------------------------------------------------- compositing
def composite(bg_small: np.ndarray, out_wh: tuple[int, int], fg_rgb: np.ndarray, fg_alpha: np.ndarray,
              hmat: np.ndarray) -> np.ndarray:
    """Scale the background up and warp the object (with its alpha) onto it."""
    w, h = out_wh
    bg = cv2.resize(bg_small, (w, h), interpolation=cv2.INTER_LINEAR)
    quad = map_points(hmat, np.array([[0, 0], [fg_rgb.shape[1], 0], [fg_rgb.shape[1], fg_rgb.shape[0]],
                                      [0, fg_rgb.shape[0]]], np.float64))
    x0, y0 = np.floor(quad.min(0)).astype(int) - 2
    x1, y1 = np.ceil(quad.max(0)).astype(int) + 2
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return bg
    roi_h = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ hmat
    size = (x1 - x0, y1 - y0)
    warped = cv2.warpPerspective(fg_rgb, roi_h, size, flags=cv2.INTER_LINEAR)
    alpha = cv2.warpPerspective(fg_alpha, roi_h, size, flags=cv2.INTER_LINEAR)
    roi = bg[y0:y1, x0:x1]
    # opaque inside: a masked copy; blend only the anti-aliased rim
    cv2.copyTo(warped, (alpha == 255).view(np.uint8), roi)
    ys, xs = np.nonzero((alpha > 0) & (alpha < 255))
    if len(ys):
        a = alpha[ys, xs].astype(np.float32)[:, None] / 255.0
        roi[ys, xs] = (warped[ys, xs] * a + roi[ys, xs] * (1 - a) + 0.5).astype(np.uint8)
    return bg


def drop_shadow(gain_small: np.ndarray, fg_alpha: np.ndarray, hmat: np.ndarray, out_wh: tuple[int, int],
                rng: np.random.Generator) -> np.ndarray:
    """Darken the low-resolution gain map where the object casts its soft shadow beside itself."""
    gh, gw = gain_small.shape[:2]
    f = gw / out_wh[0]
    # shrink the alpha first: warping a large mask straight into a small map aliases its edges
    ah, aw = fg_alpha.shape[:2]
    sw = 160
    sh_ = max(2, round(ah * sw / aw))
    fg_alpha = cv2.resize(fg_alpha, (sw, sh_), interpolation=cv2.INTER_AREA)
    sm = np.diag([f, f, 1.0]) @ hmat @ np.diag([aw / sw, ah / sh_, 1.0])
    a: np.ndarray = cv2.warpPerspective(fg_alpha, sm, (gw, gh)).astype(np.float32) / 255.0
    off = np.array([[1, 0, rng.uniform(-3, 3)], [0, 1, rng.uniform(0.5, 4)], [0, 0, 1]])
    sh: np.ndarray = cv2.warpPerspective(fg_alpha, off @ sm, (gw, gh)).astype(np.float32) / 255.0
    sh = cv2.GaussianBlur(sh, (0, 0), rng.uniform(1.0, 3.0))
    a = cv2.GaussianBlur(a, (0, 0), 0.7)
    return np.asarray(gain_small * (1.0 - rng.uniform(0.2, 0.45) * sh * (1.0 - a)), np.float32)


def light_map(rng: np.random.Generator, out_wh: tuple[int, int], p: TierParams) -> np.ndarray:
    """Low-resolution gain (float32, ~1.0): global level, gradient, optional hard-edged shadow."""
    w, h = out_wh
    f = 256.0 / max(w, h)
    bw, bh = max(4, round(w * f)), max(4, round(h * f))
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    ang = rng.uniform(0, 2 * math.pi)
    ramp = (xx / bw - 0.5) * math.cos(ang) + (yy / bh - 0.5) * math.sin(ang)
    gain = rng.uniform(*p.light_gain) * (1.0 + rng.uniform(0, p.gradient) * ramp * 2)
    gain = gain * (1.0 + rng.uniform(0, p.gradient) * (_lowfreq(rng, bw, bh, 3) - 0.5))
    if rng.random() < p.shadow_p:  # a shadow of the phone or hand: soft-edged polygon
        m: np.ndarray = np.zeros((bh, bw), np.float32)
        cx, cy = rng.uniform(0, bw), rng.uniform(0, bh)
        pts = np.array([[cx + rng.uniform(-1, 1) * bw, cy + rng.uniform(-1, 1) * bh] for _ in range(4)], np.int32)
        cv2.fillConvexPoly(m, cv2.convexHull(pts), 1.0)
        m = cv2.GaussianBlur(m, (0, 0), rng.uniform(4, 14))
        gain = gain * (1.0 - m * rng.uniform(0.15, 0.4))
    return np.asarray(gain, np.float32)


def glare_map(rng: np.random.Generator, out_wh: tuple[int, int], centre_xy: tuple[float, float],
              radius_px: float, strength: float) -> np.ndarray:
    """Low-resolution additive glare (float32, 0..255) for one specular spot."""
    w, h = out_wh
    f = 256.0 / max(w, h)
    bw, bh = max(4, round(w * f)), max(4, round(h * f))
    yy, xx = np.mgrid[0:bh, 0:bw].astype(np.float32)
    cx, cy = centre_xy[0] * f, centre_xy[1] * f
    r = max(1.0, radius_px * f)
    e = rng.uniform(0.5, 1.0)
    d2 = ((xx - cx) / r) ** 2 + ((yy - cy) / (r * e)) ** 2
    return np.asarray(strength * np.exp(-d2 * 1.2) * (1 + 0.6 * (d2 < 0.35)), np.float32).clip(0, 255)


def apply_light(img: np.ndarray, gain_small: np.ndarray, glare_small: np.ndarray | None,
                wb: tuple[float, float, float] = (1.0, 1.0, 1.0), contrast: float = 1.0) -> np.ndarray:
    """One full-resolution multiply: lighting gain x white balance x contrast (its offset goes to `noise`)."""
    h, w = img.shape[:2]
    g3 = gain_small[..., None] * (np.array(wb, np.float32) * contrast * 128.0)[None, None, :]
    g = cv2.resize(np.clip(g3, 0, 255).astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
    out = cv2.multiply(img, g, scale=1 / 128)
    if glare_small is not None:
        gl = cv2.resize(glare_small.astype(np.uint8), (w, h), interpolation=cv2.INTER_LINEAR)
        out = cv2.add(out, cv2.merge([gl, gl, gl]))
    return np.asarray(out)


def blur(img: np.ndarray, rng: np.random.Generator, px: float) -> tuple[np.ndarray, str]:
    if px <= 0.2:
        return img, "none"
    if rng.random() < 0.5:
        return np.asarray(cv2.GaussianBlur(img, (0, 0), px * 0.6)), "defocus"
    # long kernels at full resolution are slow: blur a smaller copy and scale it back
    f = min(1.0, 3.0 / px)
    small = img if f >= 1.0 else cv2.resize(img, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    n = max(3, round(px * f * 2.5) | 1)
    k: np.ndarray = np.zeros((n, n), np.float32)
    k[n // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
    k = cv2.warpAffine(k, rot, (n, n))
    k = (k / max(float(k.sum()), 1e-6)).astype(np.float32)
    out = cv2.filter2D(small, -1, k)
    if f < 1.0:
        out = cv2.resize(out, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.asarray(out), "motion"


def noise(img: np.ndarray, rng: np.random.Generator, sigma: float, offset: float = 0.0) -> np.ndarray:
    """Gaussian sensor noise from a random 256 px tile (fast on large images), plus a constant offset."""
    h, w = img.shape[:2]
    if sigma < 0.5:
        return img if abs(offset) < 0.5 else np.asarray(cv2.addWeighted(img, 1.0, img, 0.0, offset))
    tile = rng.normal(0, sigma, (256, 256, 3)).astype(np.float32)
    if rng.random() < 0.7:  # mostly luminance noise
        tile = tile * 0.4 + tile[..., :1] * 0.6
    bias = 4.0 * sigma
    tile8 = np.clip(tile + bias, 0, 255).astype(np.uint8)
    full = cv2.repeat(tile8, -(-h // 256), -(-w // 256))[:h, :w]
    return np.asarray(cv2.addWeighted(img, 1.0, full, 1.0, offset - bias))


def contrast_offset(c: float) -> float:
    """The additive part of a contrast change `c` about mid-grey."""
    return 128.0 * (1.0 - c)


def jpeg(img_rgb: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(buf)


def png(img_rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(img_rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 6])
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return bytes(buf)
