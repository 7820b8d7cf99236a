"""One synthetic sample from one seed: the image bytes and its ground truth.

`generate_sample(seed, tier, side=..., special=...)` is deterministic: the same arguments give the
same bytes and the same truth, in any process.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from benchmarks.synth import card as cardmod
from benchmarks.synth import photo
from benchmarks.synth import special as spc
from benchmarks.synth.assets import CARD_H_MM, CARD_W_MM
from benchmarks.synth.cut_out import cut_out
from benchmarks.synth.data import Identity, add_years, id_check_char, make_identity
from benchmarks.synth.wild import wild_card

TIER_NAMES: tuple[str, ...] = ("clean", "photo", "hard", "mixed", "wild")
_GLARED_SHARE = 0.08  # a share of a field's sample points under saturating glare
CARD_SPECIALS: tuple[str, ...] = ("cut1", "cut2", "occluded", "glare", "no_face", "logic")
NEGATIVE_SPECIALS: tuple[str, ...] = ("negative_text", "negative_card", "negative_blank")
SIZE_SPECIALS: tuple[str, ...] = ("size_small", "size_large")
# The card alone, cut out of its photo (never drawn by the mixed tier: asked for by name).
CUT_OUT_SPECIAL = "card_alone"
SPECIALS: tuple[str, ...] = CARD_SPECIALS + NEGATIVE_SPECIALS + SIZE_SPECIALS + (CUT_OUT_SPECIAL,)
# share of each special case among the ~15 % special samples of the `mixed` tier
_MIXED_SPECIAL_P: dict[str, float] = {
    "cut1": 0.13, "cut2": 0.13, "occluded": 0.12, "glare": 0.1, "no_face": 0.08, "logic": 0.08,
    "negative_text": 0.07, "negative_card": 0.08, "negative_blank": 0.05, "size_small": 0.08, "size_large": 0.08,
}
MIXED_SPECIAL_SHARE = 0.15
ERR_NOT_FOUND = "ID_CARD_NOT_FOUND"
ERR_SIZE = "INVALID_IMAGE_SIZE"
ZERO_QUAD: list[list[float]] = [[0.0, 0.0]] * 4


@dataclass(frozen=True, slots=True)
class Sample:
    image_bytes: bytes
    truth: dict[str, Any]  # exactly what is written to the `.json` beside the image
    ext: str  # "jpg" or "png"


def _rng(seed: int, tier: str) -> np.random.Generator:
    return np.random.default_rng([int(seed) & 0xFFFFFFFFFFFF, TIER_NAMES.index(tier)])


def generate_sample(seed: int, tier: str = "photo", *, side: int | None = None,
                    special: str | None = None) -> Sample:
    """A phone photo of a permit (or a special case) with its ground truth.

    tier: clean | photo | hard | mixed (mixed picks clean/photo/hard 30/40/30 and ~15 % specials) | wild
    (ranges wider than the engine is tuned on: `benchmarks.synth.wild`; no specials).
    side: 0 front, 1 back, None random. special: one of `SPECIALS` or None.
    """
    if tier not in TIER_NAMES:
        raise ValueError(f"unknown tier {tier!r}; expected one of {TIER_NAMES}")
    if special is not None and special not in SPECIALS:
        raise ValueError(f"unknown special {special!r}; expected one of {SPECIALS}")
    if side not in (None, 0, 1):
        raise ValueError("side must be 0, 1 or None")
    rng = _rng(seed, tier)
    real_tier = tier
    if tier == "mixed":
        real_tier = str(rng.choice(["clean", "photo", "hard"], p=[0.3, 0.4, 0.3]))
        if special is None and rng.random() < MIXED_SPECIAL_SHARE:
            probs = np.array(list(_MIXED_SPECIAL_P.values()))
            special = str(rng.choice(list(_MIXED_SPECIAL_P), p=probs / probs.sum()))
    side_v = int(rng.integers(0, 2)) if side is None else side
    if special == "no_face":
        side_v = 0
    if tier == "wild":
        data, truth = wild_card(rng, side_v)
        sample = Sample(data, truth, "jpg")
    elif special in NEGATIVE_SPECIALS:
        sample = _negative(rng, real_tier, special)
    elif special in SIZE_SPECIALS:
        sample = _size(rng, real_tier, special, side_v)
    elif special == CUT_OUT_SPECIAL:
        sample = _card_alone(rng, real_tier, side_v)
    else:
        sample = _card(rng, real_tier, side_v, special)
    sample.truth["seed"] = int(seed)
    sample.truth["set_tier"] = tier
    return sample


# ------------------------------------------------------------------------------------- the card
def _inject_logic(rng: np.random.Generator, identity: Identity, side: int) -> tuple[Identity, list[str]]:
    if side == 0:
        if rng.random() < 0.5:  # a wrong check character
            good = id_check_char(identity.idcard_number[:17])
            bad = str((int(good) + 1 + int(rng.integers(0, 9))) % 10) if good != "X" else "1"
            return dataclasses.replace(identity, idcard_number=identity.idcard_number[:17] + bad), ["idcard_number"]
        # printed gender disagrees with the sequence parity
        return dataclasses.replace(identity, gender="女" if identity.gender == "男" else "男"), ["gender"]
    years = int(rng.choice([4, 6, 10]))  # the end date is not start + 5 years
    return dataclasses.replace(identity, valid_end=add_years(identity.valid_start, years)), ["valid_date_end"]


def _place_cut(rng: np.random.Generator, quad: np.ndarray, out_wh: tuple[int, int], content_pts: np.ndarray,
               field_pts: dict[str, np.ndarray], want: int, px_per_mm_img: float) -> np.ndarray | None:
    """Shift the posed quad so that the card is cut by the frame as `want` (1 or 2) asks."""
    w, h = out_wh
    lim = np.array([w, h], np.float64)
    tol = 2.0 * px_per_mm_img
    for _ in range(600):
        # the card's centre anywhere in the frame, biased to the edges
        target = lim * np.clip(rng.beta(0.6, 0.6, 2) * 1.1 - 0.05, 0.0, 1.0)
        t = target - quad.mean(0)
        q: np.ndarray = quad + t
        corners_out = np.any((q < -tol) | (q > lim + tol), axis=1)
        if not corners_out.any():
            continue
        c = content_pts + t
        content_in = bool(np.all((c >= 2) & (c <= lim - 2)))
        if want == 1 and content_in:
            return q
        if want == 2 and not content_in:
            inside = [bool(np.all((p + t >= 0) & (p + t <= lim))) for p in field_pts.values()]
            centre = q.mean(0)
            if sum(inside) >= 2 and 0 <= centre[0] <= w and 0 <= centre[1] <= h and not all(inside):
                return q
    return None


RENDER_PX_PER_MM: tuple[float, ...] = (5.0, 6.5, 8.0, 10.0, 12.0, 14.0, 16.5, 19.0, 22.0)


def render_scale(px_per_mm_img: float) -> float:
    """Render the flat card slightly above its size in the photo, on a ladder (cached backgrounds)."""
    want = px_per_mm_img * 1.15
    return next((s for s in RENDER_PX_PER_MM if s >= want), RENDER_PX_PER_MM[-1])


def _card(rng: np.random.Generator, tier: str, side: int, special: str | None,
          out_wh: tuple[int, int] | None = None) -> Sample:
    p = photo.TIERS[tier]
    identity = make_identity(rng)
    injected: list[str] = []
    if special == "logic":
        identity, injected = _inject_logic(rng, identity, side)
    if out_wh is None:
        out_wh = photo.out_size(rng, p)
    rot = photo.rotation_deg(rng, p)
    q0 = photo.posed_quad(rng, CARD_W_MM / CARD_H_MM, p.tilt_max_deg, rot)
    lo, hi = p.card_frac
    if special in ("cut1", "cut2"):
        lo, hi = max(lo, 0.6), max(hi, 0.95)
    quad = photo.fit_quad(q0, out_wh, float(rng.uniform(lo, hi)), rng)
    edges = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    px_per_mm_img = float(max(edges[0], edges[2]) / CARD_W_MM)
    s = render_scale(px_per_mm_img)
    face_present = side == 0 and special != "no_face"
    flat = cardmod.render_card(identity, side, rng, s, face_present=face_present)
    mm_rect = np.array([[0, 0], [CARD_W_MM, 0],
                        [CARD_W_MM, CARD_H_MM], [0, CARD_H_MM]])

    def h_mm_of(q: np.ndarray) -> np.ndarray:
        return np.asarray(cv2.getPerspectiveTransform(mm_rect.astype(np.float32), q.astype(np.float32)), np.float64)

    content_mm = np.concatenate([_corners(b) for b in flat.content_boxes_mm.values()])
    if special in ("cut1", "cut2"):
        hm = h_mm_of(quad)
        content_px = photo.map_points(hm, content_mm)
        field_px = {k: photo.map_points(hm, _corners(b)) for k, b in flat.field_boxes_mm.items()}
        placed = _place_cut(rng, quad, out_wh, content_px, field_px, 1 if special == "cut1" else 2, px_per_mm_img)
        if placed is not None:
            quad = placed
    h_mm = h_mm_of(quad)
    ch, cw = flat.rgb.shape[:2]
    h_px = h_mm @ np.diag([CARD_W_MM / cw, CARD_H_MM / ch, 1.0])

    bg_small, bg_kind = photo.background(rng, out_wh)
    img = photo.composite(bg_small, out_wh, flat.rgb, flat.alpha, h_px)
    w, h = out_wh
    grids = {k: photo.map_points(h_mm, spc.box_grid_mm(b)) for k, b in flat.field_boxes_mm.items()}

    occluded: list[str] = []
    if special == "occluded":
        target = str(rng.choice(list(flat.field_boxes_mm)))
        tip = photo.map_points(h_mm, np.array([_centre(flat.field_boxes_mm[target])]))[0]
        tip = tip + rng.uniform(-1, 1, 2) * px_per_mm_img
        centre = quad.mean(0)
        direction = tip - centre if np.linalg.norm(tip - centre) > 1 else rng.uniform(-1, 1, 2)
        direction = direction / (np.linalg.norm(direction) + 1e-9) + rng.uniform(-0.4, 0.4, 2)
        mask = spc.draw_finger(img, rng, (float(tip[0]), float(tip[1])), (float(direction[0]), float(direction[1])),
                                   float(rng.uniform(14, 19) * px_per_mm_img))
        occluded = [k for k, g in grids.items() if _coverage(mask, g) >= 0.3]

    gain = photo.drop_shadow(photo.light_map(rng, out_wh, p), flat.alpha, h_px, out_wh, rng)
    glare_small: np.ndarray | None = None
    spots: list[tuple[tuple[float, float], float, float]] = []
    if special == "glare":
        target = str(rng.choice(list(flat.field_boxes_mm)))
        c = photo.map_points(h_mm, np.array([_centre(flat.field_boxes_mm[target])]))[0]
        radius = float(rng.uniform(6, 12) * px_per_mm_img)
        spots.append(((float(c[0]), float(c[1])), radius, float(rng.uniform(210, 255))))
    if rng.random() < p.glare_p:
        c = quad.mean(0) + rng.uniform(-0.4, 0.4, 2) * (quad.max(0) - quad.min(0))
        strength = rng.uniform(120, 230) if tier == "hard" else rng.uniform(40, 90)
        spots.append(((float(c[0]), float(c[1])), float(rng.uniform(5, 14) * px_per_mm_img), float(strength)))
    for centre_xy, radius, strength in spots:
        g = photo.glare_map(rng, out_wh, centre_xy, radius, strength)
        glare_small = g if glare_small is None else np.maximum(glare_small, g)
    glare_fields: list[str] = []
    if glare_small is not None:
        f = glare_small.shape[1] / w
        # One washed-out character already makes an exact reading impossible: sample finely along the
        # text and count a field as glared once about one character's share of it is gone.
        fine = {k: photo.map_points(h_mm, spc.box_grid_mm(b, nx=24)) for k, b in flat.field_boxes_mm.items()}
        for k, g in fine.items():
            xs = np.clip((g[:, 0] * f).astype(int), 0, glare_small.shape[1] - 1)
            ys = np.clip((g[:, 1] * f).astype(int), 0, glare_small.shape[0] - 1)
            inside = (g[:, 0] >= 0) & (g[:, 0] < w) & (g[:, 1] >= 0) & (g[:, 1] < h)
            if np.mean((glare_small[ys, xs] >= 110) & inside) >= _GLARED_SHARE:
                glare_fields.append(k)
    wb = rng.uniform(0.92, 1.08, 3) if tier != "clean" else rng.uniform(0.98, 1.02, 3)
    con = float(rng.uniform(*p.contrast))
    img = photo.apply_light(img, gain, glare_small, (float(wb[0]), float(wb[1]), float(wb[2])), con)
    blur_kind = "none"
    if rng.random() < p.blur_p:
        img, blur_kind = photo.blur(img, rng, float(rng.uniform(*p.blur_mm)) * px_per_mm_img)
    img = photo.noise(img, rng, float(rng.uniform(*p.noise_sigma)), photo.contrast_offset(con))
    quality = int(rng.integers(p.jpeg_quality[0], p.jpeg_quality[1] + 1))
    data = photo.jpeg(img, quality)

    lim = np.array([w, h], np.float64)
    completeness, cut_fields = _completeness(quad, photo.map_points(h_mm, content_mm),
                                             {k: photo.map_points(h_mm, _corners(b))
                                              for k, b in flat.field_boxes_mm.items()}, lim)
    truth: dict[str, Any] = {
        "tier": tier,
        "kind": "card",
        "side": side,
        "fields": identity.fields(side),
        "region": identity.region,  # 810000 / 820000 / 830000 of the holder (ties the pass number to the ID)
        "card_quad_xy": _r(quad),
        "completeness": completeness,
        "cut_fields": cut_fields,
        "occluded_fields": occluded,
        "glare_fields": glare_fields,
        "face_present": face_present,
        "expected_error": None,
        "injected_logic_errors": injected,
        "size_wh": [w, h],
        "special": special,
        "field_quads_xy": {k: _r(photo.map_points(h_mm, _corners(b))) for k, b in flat.field_boxes_mm.items()},
        "font": flat.fonts,
        "background": bg_kind,
        "rotation_deg": round(rot % 360, 1),
        "blur": blur_kind,
        "jpeg_quality": quality,
        "card_px_per_mm": round(px_per_mm_img, 2),
    }
    return Sample(data, truth, "jpg")


def _card_alone(rng: np.random.Generator, tier: str, side: int) -> Sample:
    """A photo's card cut out of it: photos are drawn until one holds the card whole."""
    for _ in range(50):
        sample = _card(rng, tier, side, None)
        if sample.truth["completeness"] == 0:
            data, truth = cut_out(sample.image_bytes, sample.truth, rng)
            return Sample(data, {**truth, "special": CUT_OUT_SPECIAL}, "jpg")
    raise RuntimeError("no photo held the card whole")


def _corners(b: cardmod.BoxMM) -> np.ndarray:
    return np.array([[b[0], b[1]], [b[2], b[1]], [b[2], b[3]], [b[0], b[3]]], np.float64)


def _centre(b: cardmod.BoxMM) -> tuple[float, float]:
    return ((b[0] + b[2]) / 2, (b[1] + b[3]) / 2)


def _coverage(mask: np.ndarray, pts: np.ndarray) -> float:
    h, w = mask.shape[:2]
    inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
    xs = np.clip(pts[:, 0].astype(int), 0, w - 1)
    ys = np.clip(pts[:, 1].astype(int), 0, h - 1)
    return float(np.mean((mask[ys, xs] > 127) & inside))


def _completeness(quad: np.ndarray, content_px: np.ndarray, field_px: dict[str, np.ndarray],
                  lim: np.ndarray) -> tuple[int, list[str]]:
    def inside(p: np.ndarray, tol: float = 0.5) -> bool:
        return bool(np.all((p >= -tol) & (p <= lim + tol)))

    cut = [k for k, p in field_px.items() if not inside(p)]
    if inside(quad):
        return 0, cut
    return (1 if inside(content_px) else 2), cut


def _r(q: np.ndarray) -> list[list[float]]:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in q]


# ------------------------------------------------------------------------- negatives and sizes
def _negative(rng: np.random.Generator, tier: str, special: str) -> Sample:
    p = photo.TIERS[tier]
    out_wh = photo.out_size(rng, p)
    w, h = out_wh
    bg_small, bg_kind = photo.background(rng, out_wh)
    what = {"negative_text": "text_page", "negative_card": "other_card", "negative_blank": "blank"}[special]
    if special == "negative_blank":
        img = cv2.resize(bg_small, out_wh, interpolation=cv2.INTER_LINEAR)
    else:
        rot = photo.rotation_deg(rng, p)
        if special == "negative_text":
            obj_s = float(np.clip(max(w, h) / 210.0, 3.0, 8.0))
            rgb, alpha, aspect = spc.text_page(rng, obj_s)
            frac = rng.uniform(0.6, 0.95)
        else:
            obj_s = float(np.clip(max(w, h) * 0.7 / 85.6, 5.0, 16.0))
            rgb, alpha, aspect, what = spc.other_card(rng, obj_s)
            frac = rng.uniform(*p.card_frac)
        q0 = photo.posed_quad(rng, aspect, p.tilt_max_deg, rot)
        quad = photo.fit_quad(q0, out_wh, float(frac), rng)
        h_px = photo.homography((rgb.shape[1], rgb.shape[0]), quad)
        img = photo.composite(bg_small, out_wh, np.ascontiguousarray(rgb), alpha, h_px)
    img = photo.apply_light(img, photo.light_map(rng, out_wh, p), None)
    img = photo.noise(img, rng, float(rng.uniform(*p.noise_sigma)))
    quality = int(rng.integers(p.jpeg_quality[0], p.jpeg_quality[1] + 1))
    truth = _empty_truth(tier, "negative", ERR_NOT_FOUND, [w, h], special)
    truth.update({"negative": what, "background": bg_kind, "jpeg_quality": quality})
    return Sample(photo.jpeg(img, quality), truth, "jpg")


def _size(rng: np.random.Generator, tier: str, special: str, side: int) -> Sample:
    if special == "size_small":
        choices = [(150, 120), (120, 160), (190, 150), (180, 180), (199, 320), (320, 190), (100, 64)]
        out_wh = choices[int(rng.integers(len(choices)))]
        big_wh = (out_wh[0] * 3, out_wh[1] * 3)
        inner = _card(rng, "clean", side, None, out_wh=big_wh)
        arr: np.ndarray = np.asarray(cv2.imdecode(np.frombuffer(inner.image_bytes, np.uint8), cv2.IMREAD_COLOR))
        arr = cv2.cvtColor(cv2.resize(arr, out_wh, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
        truth = _empty_truth(tier, "size", ERR_SIZE, list(out_wh), special)
        return Sample(photo.jpeg(arr, 90), truth, "jpg")
    choices = [(8200, 300), (300, 8200), (8100, 600), (9000, 240)]
    out_wh = choices[int(rng.integers(len(choices)))]
    bg_small, bg_kind = photo.background(rng, out_wh)
    bg_small = cv2.GaussianBlur(bg_small, (0, 0), 2.0)  # smooth: keeps the big file small
    img = cv2.resize(bg_small, out_wh, interpolation=cv2.INTER_LINEAR)
    truth = _empty_truth(tier, "size", ERR_SIZE, list(out_wh), special)
    truth["background"] = bg_kind
    return Sample(photo.jpeg(img, 70), truth, "jpg")


def _empty_truth(tier: str, kind: str, error: str, size_wh: list[int], special: str) -> dict[str, Any]:
    return {
        "tier": tier, "kind": kind, "side": None, "fields": {}, "card_quad_xy": ZERO_QUAD,
        "completeness": 0, "cut_fields": [], "occluded_fields": [], "glare_fields": [], "face_present": False,
        "expected_error": error, "injected_logic_errors": [], "size_wh": size_wh, "special": special,
    }




def generate_flat_card(seed: int, side: int | None = None, *, px_per_mm: float = 12.0,
                       face_present: bool = True) -> Sample:
    """The flat card alone (no photo effects), for stage tests: the image is the card, quad = its corners.

    Truth has the same keys as `generate_sample`'s, with tier `flat`; the corners outside the rounded
    card edge are filled white.
    """
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFFFFFF, 99])
    identity = make_identity(rng)
    side_v = int(rng.integers(0, 2)) if side is None else side
    flat = cardmod.render_card(identity, side_v, rng, px_per_mm, face_present=face_present and side_v == 0)
    a = flat.alpha[..., None].astype(np.float32) / 255.0
    img = (flat.rgb.astype(np.float32) * a + 255.0 * (1 - a)).astype(np.uint8)
    h, w = img.shape[:2]
    sx, sy = w / CARD_W_MM, h / CARD_H_MM
    h_mm = np.diag([sx, sy, 1.0])
    truth: dict[str, Any] = {
        "tier": "flat", "kind": "card", "side": side_v, "fields": identity.fields(side_v), "region": identity.region,
        "card_quad_xy": [[0.0, 0.0], [float(w), 0.0], [float(w), float(h)], [0.0, float(h)]],
        "completeness": 0, "cut_fields": [], "occluded_fields": [], "glare_fields": [],
        "face_present": face_present and side_v == 0, "expected_error": None, "injected_logic_errors": [],
        "size_wh": [w, h], "special": None,
        "field_quads_xy": {k: _r(photo.map_points(h_mm, _corners(b))) for k, b in flat.field_boxes_mm.items()},
        "font": flat.fonts, "seed": int(seed), "set_tier": "flat", "card_px_per_mm": round(sx, 2),
    }
    return Sample(photo.jpeg(img, 95), truth, "jpg")
