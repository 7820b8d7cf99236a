"""The whole engine on generated photos, scored against the generator's truth, with floors that can fail."""

from __future__ import annotations

import pytest

from benchmarks.synth import generate_sample
from engine.errors import CardNotFoundError, ImageSizeError
from engine.image.geometry import corner_error_ratio
from engine.pipeline import CardPipeline
from engine.types import CardResult, RecognizeOptions, ResultCode, Side

# Seeds far from the ones used while building the engine.
CLEAN_SEEDS = range(70_000, 70_006)
PHOTO_SEEDS = range(71_000, 71_008)


def _score(pipeline: CardPipeline, tier: str, seeds: range) -> tuple[int, int, int, int]:
    fields_ok = fields_total = sides_ok = corners_ok = 0
    for seed in seeds:
        sample = generate_sample(seed, tier)
        truth = sample.truth
        fields_total += len(truth["fields"])
        try:
            result = pipeline.recognize(sample.image_bytes, RecognizeOptions())
        except CardNotFoundError:
            continue  # counts against every floor below
        got = {f.name: f.text for f in result.fields}
        fields_ok += sum(got.get(name) == text for name, text in truth["fields"].items())
        sides_ok += int(result.side) == truth["side"]
        corners_ok += corner_error_ratio(result.card_quad_xy, truth["card_quad_xy"]) <= 0.02
    return fields_ok, fields_total, sides_ok, corners_ok


def test_clean_photos_are_read_exactly(pipeline: CardPipeline) -> None:
    fields_ok, total, sides_ok, corners_ok = _score(pipeline, "clean", CLEAN_SEEDS)
    assert sides_ok == len(CLEAN_SEEDS)
    assert corners_ok == len(CLEAN_SEEDS)
    assert fields_ok / total >= 0.97, f"{fields_ok}/{total} fields exact on clean photos"


def test_phone_photos_meet_the_floor(pipeline: CardPipeline) -> None:
    fields_ok, total, sides_ok, corners_ok = _score(pipeline, "photo", PHOTO_SEEDS)
    assert sides_ok >= len(PHOTO_SEEDS) - 1
    assert corners_ok >= len(PHOTO_SEEDS) - 1
    assert fields_ok / total >= 0.85, f"{fields_ok}/{total} fields exact on phone photos"


def test_result_carries_every_field_of_its_side_with_rects_on_the_card(pipeline: CardPipeline) -> None:
    sample = generate_sample(70_100, "clean", side=0)
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions(return_portrait=True))
    assert isinstance(result, CardResult)
    assert result.side == Side.FRONT
    assert [f.name for f in result.fields] == [
        "name",
        "gender",
        "birth_year",
        "birth_month",
        "birth_day",
        "address",
        "idcard_number",
    ]
    xs = [p[0] for p in result.card_quad_xy]
    ys = [p[1] for p in result.card_quad_xy]
    for f in result.fields:
        assert 0.0 <= f.quality <= 1.0
        for x, y in f.quad_xy:
            assert min(xs) - 5 <= x <= max(xs) + 5 and min(ys) - 5 <= y <= max(ys) + 5, f.name
    assert result.portrait is not None and result.portrait.face_found
    assert result.portrait.jpeg is not None and result.portrait.jpeg[:2] == b"\xff\xd8"
    stages = {t.stage for t in result.timings}
    assert stages >= {"decode", "detect", "recognize", "fields"} and stages & {"outline", "locate"}


def test_portrait_jpeg_only_when_asked(pipeline: CardPipeline) -> None:
    sample = generate_sample(70_101, "clean", side=0)
    result = pipeline.recognize(sample.image_bytes, RecognizeOptions(return_portrait=False))
    assert result.portrait is not None and result.portrait.jpeg is None


@pytest.mark.parametrize("special", ["negative_text", "negative_card", "negative_blank"])
def test_negatives_are_not_permits(pipeline: CardPipeline, special: str) -> None:
    sample = generate_sample(70_200, "photo", special=special)
    assert sample.truth["expected_error"] == "ID_CARD_NOT_FOUND"
    with pytest.raises(CardNotFoundError):
        pipeline.recognize(sample.image_bytes, RecognizeOptions())


def test_too_small_image_is_a_size_error(pipeline: CardPipeline) -> None:
    sample = generate_sample(70_300, "photo", special="size_small")
    with pytest.raises(ImageSizeError):
        pipeline.recognize(sample.image_bytes, RecognizeOptions())


def test_exception_range_switches_the_result_code(pipeline: CardPipeline) -> None:
    sample = generate_sample(70_400, "clean", side=1)
    strict = pipeline.recognize(sample.image_bytes, RecognizeOptions())
    assert strict.result_code == ResultCode.OK
    quality_bar = RecognizeOptions(quality_threshold=1.01)  # every field "below threshold"
    assert pipeline.recognize(sample.image_bytes, quality_bar).result_code == ResultCode.EXCEPTION


def test_a_photo_over_4096_px_is_read_at_half_size_and_answered_in_its_own_pixels(pipeline: CardPipeline) -> None:
    import cv2
    import numpy as np

    sample = generate_sample(95_400, "clean", side=1)
    img = cv2.imdecode(np.frombuffer(sample.image_bytes, np.uint8), cv2.IMREAD_COLOR)
    scale = 4400 / max(img.shape[:2])
    big = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    ok, jpg = cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    result = pipeline.recognize(jpg.tobytes(), RecognizeOptions())
    truth = np.array(sample.truth["card_quad_xy"]) * scale
    assert corner_error_ratio(result.card_quad_xy, truth) <= 0.02
    read = {f.name: f.text for f in result.fields}
    assert read["eep_number"] == sample.truth["fields"]["eep_number"]
