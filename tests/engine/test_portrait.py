from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from benchmarks.synth import assets
from engine.portrait.face_crop import PortraitStage, enlarge_box

CARD_WH = (960, 605)
# The photo area of the canonical 960 px card (layout.PORTRAIT_MM_XYXY is 52-83 x 4-41 mm).
REGION_XYXY = (583, 45, 931, 460)
PHOTO_XYXY = (610, 70, 900, 430)
PAPER_BGR = (222, 232, 238)


def _face_images() -> dict[str, np.ndarray]:
    """The generator's face photos (from packages, the same on every machine), each also mirrored."""
    images: dict[str, np.ndarray] = {}
    for i, rgb in enumerate(assets._load_face_sources()):
        bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
        images[f"face{i}"] = bgr
        images[f"face{i}-mirrored"] = np.ascontiguousarray(bgr[:, ::-1])
    return images


FACES = _face_images()


def blank_card(seed: int = 0) -> np.ndarray:
    """A light card-like background with a faint guilloche pattern and noise."""
    w, h = CARD_WH
    card = np.zeros((h, w, 3), np.uint8)
    card[:] = PAPER_BGR
    for i in range(0, w + h, 14):
        cv2.line(card, (i, 0), (i - h, h), (205, 220, 230), 1, cv2.LINE_AA)
    noise = np.random.default_rng(seed).normal(0.0, 3.0, card.shape)
    return np.clip(card + noise, 0, 255).astype(np.uint8)


def card_with_photo(face_bgr: np.ndarray) -> np.ndarray:
    card = blank_card()
    x0, y0, x1, y1 = PHOTO_XYXY
    fh, fw = face_bgr.shape[:2]
    target_ratio = (x1 - x0) / (y1 - y0)
    # Centre-crop the source photo to the card photo's aspect ratio, as an ID photo would be.
    if fw / fh > target_ratio:
        new_w = int(fh * target_ratio)
        face_bgr = face_bgr[:, (fw - new_w) // 2 : (fw - new_w) // 2 + new_w]
    else:
        new_h = int(fw / target_ratio)
        face_bgr = face_bgr[: max(new_h, 1)]
    card[y0:y1, x0:x1] = cv2.resize(face_bgr, (x1 - x0, y1 - y0), interpolation=cv2.INTER_AREA)
    return card


@pytest.fixture(scope="module")
def stage() -> Iterator[PortraitStage]:
    s = PortraitStage()
    yield s
    s.close()


@pytest.mark.parametrize("face_name", sorted(FACES))
def test_face_on_card_is_found(stage: PortraitStage, face_name: str) -> None:
    card = card_with_photo(FACES[face_name])
    crop = stage(card, REGION_XYXY)
    assert crop.face_found
    assert crop.detector in ("blazeface", "haar")
    assert 0.5 <= crop.face_score <= 1.0
    assert crop.face_box_xyxy is not None
    fx0, fy0, fx1, fy1 = crop.face_box_xyxy
    rx0, ry0, rx1, ry1 = crop.region_xyxy
    assert rx0 <= fx0 < fx1 <= rx1 and ry0 <= fy0 < fy1 <= ry1
    assert crop.jpeg is not None and crop.jpeg[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(crop.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    assert decoded.shape == crop.crop_bgr.shape == (ry1 - ry0, rx1 - rx0, 3)


def test_at_least_three_faces_available() -> None:
    assert len(FACES) >= 4  # two sources from packages, each mirrored


def _patterned(kind: str) -> np.ndarray:
    card = blank_card(seed=1)
    x0, y0, x1, y1 = PHOTO_XYXY
    rng = np.random.default_rng(7)
    if kind == "noise":
        card[y0:y1, x0:x1] = rng.integers(0, 256, (y1 - y0, x1 - x0, 3), dtype=np.uint8)
    elif kind == "stripes":
        for x in range(x0, x1, 12):
            cv2.line(card, (x, y0), (x, y1), (60, 60, 60), 3)
    elif kind == "text":
        for i, y in enumerate(range(y0 + 30, y1, 40)):
            cv2.putText(card, f"830000 19970602 {i}", (x0, y), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (30, 30, 30), 2)
    elif kind == "grey":
        card[y0:y1, x0:x1] = (128, 128, 128)
    return card


@pytest.mark.parametrize("kind", ["blank", "noise", "stripes", "text", "grey"])
def test_no_face_is_no_face_but_the_photo_area_still_comes_back(stage: PortraitStage, kind: str) -> None:
    crop = stage(_patterned(kind), REGION_XYXY)
    assert not crop.face_found
    assert crop.jpeg is not None and crop.jpeg[:2] == b"\xff\xd8"
    assert crop.face_box_xyxy is None
    assert crop.detector == "none"
    assert crop.face_score == 0.0


def test_encode_jpeg_false(stage: PortraitStage) -> None:
    crop = stage(card_with_photo(FACES["face1"]), REGION_XYXY, encode_jpeg=False)
    assert crop.face_found and crop.jpeg is None


def test_haar_fallback_finds_a_face(stage: PortraitStage) -> None:
    card = card_with_photo(FACES["face1"])
    x0, y0, x1, y1 = REGION_XYXY
    found = stage._haar_face(np.ascontiguousarray(card[y0:y1, x0:x1]))
    assert found is not None
    assert stage._haar_face(np.ascontiguousarray(_patterned("stripes")[y0:y1, x0:x1])) is None


def test_concurrent_calls(stage: PortraitStage) -> None:
    names = sorted(FACES)
    cards = [card_with_photo(FACES[n]) for n in names] + [_patterned("noise")]
    expected = [stage(c, REGION_XYXY) for c in cards]

    def run(i: int) -> tuple[bool, float, bytes | None]:
        crop = stage(cards[i % len(cards)], REGION_XYXY)
        return crop.face_found, crop.face_score, crop.jpeg

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, range(4 * len(cards))))
    for i, (found, score, jpeg) in enumerate(results):
        want = expected[i % len(cards)]
        assert found == want.face_found
        assert score == want.face_score
        assert jpeg == want.jpeg


def test_bad_inputs(stage: PortraitStage) -> None:
    with pytest.raises(ValueError):
        stage(np.zeros((100, 100), np.uint8), (0, 0, 50, 50))
    with pytest.raises(ValueError):
        stage(blank_card(), (2000, 2000, 2100, 2100))  # outside the card


def test_close_is_idempotent_and_final() -> None:
    s = PortraitStage()
    s.close()
    s.close()
    assert s.closed
    with pytest.raises(RuntimeError):
        s(blank_card(), REGION_XYXY)


@pytest.mark.parametrize(
    ("box", "margin", "size", "expected"),
    [
        ((100, 100, 200, 300), 0.1, (1000, 1000), (90, 80, 210, 320)),
        ((0, 0, 100, 100), 0.1, (1000, 1000), (0, 0, 110, 110)),
        ((900, 900, 1000, 1000), 0.5, (1000, 1000), (850, 850, 1000, 1000)),
        ((10, 10, 20, 20), 0.0, (100, 100), (10, 10, 20, 20)),
    ],
)
def test_enlarge_box(
    box: tuple[int, int, int, int], margin: float, size: tuple[int, int], expected: tuple[int, int, int, int]
) -> None:
    assert enlarge_box(box, margin, size) == expected
