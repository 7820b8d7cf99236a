"""CardLocator on drawn scenes with known corners, and on a few generated photos."""

from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from engine.image.geometry import corner_error_ratio, quad_aspect, side_lengths  # noqa: E402
from engine.locate.card_locate import (  # noqa: E402
    CARD_ASPECT,
    CardLocator,
    QuadCandidate,
    orient_long_side_top,
    refine_quad,
)

CW, CH = 856, 540  # card drawing, px
LOCATOR = CardLocator()


def _card(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A pale card with rounded corners (r = 3 mm), dark 'text' rows and a grey 'photo' block."""
    base = np.array([rng.integers(215, 240), rng.integers(222, 245), rng.integers(228, 250)], np.float64)
    yy, xx = np.mgrid[0:CH, 0:CW]
    card = base[None, None, :] + (5 * np.sin(xx / 17.0 + yy / 23.0))[..., None]
    card = np.clip(card, 0, 255).astype(np.uint8)
    for row in range(6):
        x, y = 70, 70 + row * 68
        for _ in range(int(rng.integers(3, 9))):
            w = int(rng.integers(22, 38))
            cv2.rectangle(card, (x, y), (x + w, y + 28), (45, 45, 50), -1)
            x += w + 10
    cv2.rectangle(card, (610, 90), (790, 330), (150, 150, 160), -1)
    cv2.circle(card, (700, 190), 48, (90, 100, 130), -1)
    mask = np.zeros((CH, CW), np.uint8)
    r = 30
    cv2.rectangle(mask, (r, 0), (CW - 1 - r, CH - 1), 255, -1)
    cv2.rectangle(mask, (0, r), (CW - 1, CH - 1 - r), 255, -1)
    for cx, cy in ((r, r), (CW - 1 - r, r), (r, CH - 1 - r), (CW - 1 - r, CH - 1 - r)):
        cv2.circle(mask, (cx, cy), r, 255, -1)
    return card, mask


def _background(rng: np.random.Generator, w: int, h: int, kind: str) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if kind == "wood":
        g = 110 + 30 * np.sin(xx / 9.0 + 3 * np.sin(yy / 40.0)) + rng.normal(0, 8, (h, w))
        img = np.stack([g * 0.55, g * 0.8, g], -1)
    elif kind == "paper":  # low contrast: a near-white sheet under a pale card
        img = np.repeat((200.0 + rng.normal(0, 5, (h, w)))[..., None], 3, axis=2)
    elif kind == "text":  # printed clutter
        img = np.full((h, w, 3), 185.0)
        for _ in range(w * h // 3000):
            x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
            cv2.rectangle(img, (x, y), (x + int(rng.integers(4, 24)), y + 9), (60, 60, 60), -1)
    else:  # cloth: blotchy colour noise
        img = cv2.resize(rng.normal(90, 25, (h // 8 + 1, w // 8 + 1, 3)), (w, h), interpolation=cv2.INTER_CUBIC)
        img = img + rng.normal(0, 10, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def _scene(
    seed: int,
    kind: str,
    rot_deg: float = 0.0,
    persp: float = 0.1,
    cover: float = 0.4,
    shift_x: float = 0.0,
    size_wh: tuple[int, int] = (960, 720),
) -> tuple[np.ndarray, np.ndarray]:
    """A photo of the card: returns (img_bgr, truth quad lt, rt, rb, lb of the card as drawn)."""
    rng = np.random.default_rng(seed)
    w, h = size_wh
    bg = _background(rng, w, h, kind)
    card, mask = _card(rng)
    cw = np.sqrt(cover * w * h * CW / CH)
    ch = cw * CH / CW
    centre = np.array([w / 2 + shift_x * w, h / 2]) + rng.uniform(-0.05, 0.05, 2) * np.array([w, h])
    base = np.array([[-cw / 2, -ch / 2], [cw / 2, -ch / 2], [cw / 2, ch / 2], [-cw / 2, ch / 2]])
    base = base + rng.uniform(-persp, persp, (4, 2)) * np.array([cw, ch]) * 0.5
    a = np.radians(rot_deg)
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    quad = base @ rot.T + centre
    src = np.array([[0, 0], [CW, 0], [CW, CH], [0, CH]], np.float32)
    hm = cv2.getPerspectiveTransform(src, quad.astype(np.float32))
    warped = cv2.warpPerspective(card, hm, (w, h), flags=cv2.INTER_LINEAR).astype(np.float64)
    alpha = cv2.warpPerspective(mask, hm, (w, h), flags=cv2.INTER_LINEAR).astype(np.float64)[..., None] / 255
    img = bg * (1 - alpha) + warped * alpha
    light = 0.8 + 0.25 * (np.mgrid[0:h, 0:w][1] / w)  # uneven light
    img = img * light[..., None] + rng.normal(0, 4, img.shape)
    img = cv2.GaussianBlur(np.clip(img, 0, 255).astype(np.uint8), (3, 3), 0)
    return img, quad


def _err_any_label(pred: object, truth: np.ndarray) -> float:
    """Corner error, ignoring which corner is called lt (the 0/180 turn is the pipeline's to settle)."""
    p = np.array(pred, dtype=np.float64)
    return min(corner_error_ratio(np.roll(p, k, axis=0), truth) for k in range(4))


SCENES = [
    pytest.param(dict(kind="wood"), id="wood"),
    pytest.param(dict(kind="wood", rot_deg=33), id="wood-33deg"),
    pytest.param(dict(kind="cloth", rot_deg=90, cover=0.3), id="cloth-90deg"),
    pytest.param(dict(kind="cloth", rot_deg=180), id="cloth-180deg"),
    pytest.param(dict(kind="paper"), id="paper-low-contrast"),
    pytest.param(dict(kind="paper", rot_deg=-20, persp=0.2), id="paper-perspective"),
    pytest.param(dict(kind="text", rot_deg=12), id="printed-clutter"),
    pytest.param(dict(kind="text", cover=0.15, persp=0.25), id="small-card-perspective"),
    pytest.param(dict(kind="cloth", cover=0.6, persp=0.05), id="large-card"),
    pytest.param(dict(kind="wood", rot_deg=270, cover=0.3), id="wood-270deg"),
]


@pytest.mark.parametrize("params", SCENES)
def test_finds_card_corners_within_two_percent(params: dict[str, object]) -> None:
    img, truth = _scene(7, **params)  # type: ignore[arg-type]
    cands = LOCATOR(img)
    assert cands, "no candidate"
    best = cands[0]
    assert isinstance(best, QuadCandidate)
    assert LOCATOR.min_score <= best.score <= 1.0
    assert _err_any_label(best.quad_xy, truth) < 0.02
    # lt→rt is a long side, and of the two long sides the upper one
    s = side_lengths(best.quad_xy)
    assert s[0] + s[2] >= s[1] + s[3]
    assert np.mean([best.quad_xy[0][1], best.quad_xy[1][1]]) <= np.mean([best.quad_xy[2][1], best.quad_xy[3][1]])


def test_upright_card_keeps_printed_corner_labels() -> None:
    img, truth = _scene(3, "wood", rot_deg=5)
    best = LOCATOR(img)[0]
    assert corner_error_ratio(best.quad_xy, truth) < 0.02


@pytest.mark.parametrize("seed", [0, 2])
def test_corner_out_of_frame_is_extrapolated(seed: int) -> None:
    img, truth = _scene(seed, "cloth", rot_deg=30, cover=0.3, shift_x=0.25)
    w = img.shape[1]
    assert (truth[:, 0] > w).sum() == 1, "scene should cut one corner off"
    best = LOCATOR(img)[0]
    assert _err_any_label(best.quad_xy, truth) < 0.02
    assert max(x for x, _ in best.quad_xy) > w  # corners outside the image are returned as such


@pytest.mark.parametrize("kind", ["wood", "paper", "text", "cloth"])
def test_no_card_no_candidate(kind: str) -> None:
    img = _background(np.random.default_rng(5), 960, 720, kind)
    assert LOCATOR(img) == ()
    assert all(c.score < LOCATOR.min_score for c in LOCATOR.all_candidates(img))


def test_refine_quad_snaps_rough_quad_to_edges() -> None:
    img, truth = _scene(21, "wood", rot_deg=15, persp=0.15)
    rng = np.random.default_rng(1)
    diag = float(np.linalg.norm(truth[2] - truth[0]))
    rough = truth + rng.uniform(-0.02, 0.02, (4, 2)) * diag
    assert corner_error_ratio(rough, truth) > 0.01
    refined = refine_quad(img, rough)
    assert corner_error_ratio(refined, truth) < 0.01  # labelling of the input is kept


def test_refine_quad_leaves_quad_without_edges_alone() -> None:
    img = np.full((480, 640, 3), 128, np.uint8)
    q = ((100.0, 100.0), (500.0, 110.0), (490.0, 360.0), (110.0, 350.0))
    assert refine_quad(img, q) == q


def test_orient_long_side_top() -> None:
    portrait = ((100.0, 50.0), (200.0, 50.0), (200.0, 208.5), (100.0, 208.5))  # card standing up
    q = orient_long_side_top(portrait)
    s = side_lengths(q)
    assert s[0] > s[1]
    assert quad_aspect(q) == pytest.approx(CARD_ASPECT, rel=1e-3)


def test_candidate_validates_score() -> None:
    with pytest.raises(ValueError):
        QuadCandidate(((0, 0), (1, 0), (1, 1), (0, 1)), 1.5, "x")


# ------------------------------------------------------------------ generated photos
SYNTH_SEEDS = [(tier, seed) for tier in ("clean", "photo") for seed in range(6)]
SYNTH_FLOOR = 10  # of 12 within 2 % of the diagonal (12 of 12 when written)


def test_generated_photos_floor() -> None:
    synth = pytest.importorskip("benchmarks.synth")
    ok = 0
    for tier, seed in SYNTH_SEEDS:
        sample = synth.generate_sample(seed, tier)
        img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
        truth = np.array(sample.truth["card_quad_xy"], dtype=np.float64)
        cands = LOCATOR(img)
        if cands and _err_any_label(cands[0].quad_xy, truth) < 0.02:
            ok += 1
    assert ok >= SYNTH_FLOOR, f"{ok} of {len(SYNTH_SEEDS)} generated photos within 2 %"


def test_nearly_parallel_lines_meeting_far_away_are_no_outline() -> None:
    """Sample 89 of hard seed 2043: three edges of a rough outline met 600 000 px away, and refining it asked
    OpenCV for a search band wider than it can remap (the request failed). Such outlines are not refined."""
    from benchmarks.synth import generate_sample

    sample = generate_sample(258528587060745, "hard")
    img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
    found = CardLocator().all_candidates(img)
    truth = np.array(sample.truth["card_quad_xy"])
    errors = [min(corner_error_ratio(np.roll(truth, k, axis=0), c.quad_xy) for k in range(4)) for c in found[:3]]
    assert min(errors) < 0.02  # the card, whichever corner the locator calls first
