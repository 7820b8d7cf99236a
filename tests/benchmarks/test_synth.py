"""The synthetic photo generator: determinism, truth rules, geometry, tiers, special cases, CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from benchmarks.synth import SPECIALS, generate_flat_card, generate_sample, photo
from benchmarks.synth.data import (
    add_years,
    birth_of_id,
    gender_of_id,
    id_number_valid,
    pass_number_matches_region,
)
from benchmarks.synth.photo import TIERS
from benchmarks.synth.writer import sample_seed

FRONT = ["name", "gender", "birth_year", "birth_month", "birth_day", "address", "idcard_number"]
BACK = ["issued_by", "valid_date_start", "valid_date_end", "eep_number", "issue_count"]
SCHEMA_KEYS = {"tier", "side", "fields", "card_quad_xy", "completeness", "occluded_fields", "glare_fields",
               "face_present", "expected_error", "injected_logic_errors", "size_wh", "kind"}


def decode(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    return img


def rectify(img: np.ndarray, quad: list[list[float]], px_per_mm: float = 8.0) -> np.ndarray:
    """Warp the card quad (lt, rt, rb, lb) to an upright 85.6 x 54 mm card."""
    w, h = round(85.6 * px_per_mm), round(54 * px_per_mm)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    m = cv2.getPerspectiveTransform(np.array(quad, np.float32), dst)
    return cv2.warpPerspective(img, m, (w, h))


def check_rules(truth: dict[str, Any]) -> None:
    f = truth["fields"]
    if truth["side"] == 0:
        assert list(f) == FRONT
        num = f["idcard_number"]
        assert id_number_valid(num)
        assert num[:6] == truth["region"]
        assert gender_of_id(num) == f["gender"]
        assert birth_of_id(num) == dt.date(int(f["birth_year"]), int(f["birth_month"]), int(f["birth_day"]))
        assert not f["birth_month"].startswith("0") and not f["birth_day"].startswith("0")
        assert " " not in f["address"] and 8 <= len(f["address"]) <= 30
    else:
        assert list(f) == BACK
        assert pass_number_matches_region(f["eep_number"], truth["region"])
        start = dt.datetime.strptime(f["valid_date_start"], "%Y%m%d").date()
        end = dt.datetime.strptime(f["valid_date_end"], "%Y%m%d").date()
        assert start >= dt.date(2018, 9, 1)
        assert end == add_years(start, 5)
        assert len(f["issue_count"]) == 2 and 1 <= int(f["issue_count"]) <= 9


def test_same_seed_same_bytes_and_truth() -> None:
    a = generate_sample(1234, "photo")
    b = generate_sample(1234, "photo")
    assert a.image_bytes == b.image_bytes
    assert a.truth == b.truth
    c = generate_sample(1235, "photo")
    assert c.image_bytes != a.image_bytes


@pytest.mark.parametrize("tier", ["clean", "photo", "hard"])
def test_tier_sizes_truth_and_rules(tier: str) -> None:
    p = TIERS[tier]
    for seed in range(3):
        s = generate_sample(seed, tier)
        t = s.truth
        assert set(t) >= SCHEMA_KEYS
        assert t["tier"] == tier and t["kind"] == "card" and t["expected_error"] is None
        img = decode(s.image_bytes)
        assert [img.shape[1], img.shape[0]] == t["size_wh"]
        assert p.long_side[0] <= max(t["size_wh"]) <= p.long_side[1]
        assert p.jpeg_quality[0] <= t["jpeg_quality"] <= p.jpeg_quality[1]
        quad = np.array(t["card_quad_xy"])
        w, h = t["size_wh"]
        assert t["completeness"] == 0
        assert np.all(quad >= -0.5) and np.all(quad[:, 0] <= w + 0.5) and np.all(quad[:, 1] <= h + 0.5)
        ext = quad.max(0) - quad.min(0)
        area_share = photo.quad_area(quad) / (w * h)
        capped = max(ext[0] / w, ext[1] / h) >= photo.MAX_EXTENT - 0.01
        assert p.card_frac[0] - 0.01 <= area_share <= p.card_frac[1] + 0.01 or capped
        check_rules(t)
        assert t["face_present"] is (t["side"] == 0)
        # every field quad lies inside the card quad
        card = quad.astype(np.float32).reshape(-1, 1, 2)
        for name, fq in t["field_quads_xy"].items():
            for x, y in fq:
                assert cv2.pointPolygonTest(card, (x, y), False) >= 0, name


@pytest.mark.parametrize("seed", [3, 11, 12, 40])
def test_card_quad_is_on_the_card_and_lt_is_the_printed_top_left(seed: int) -> None:
    """Back side: the red emblem must sit at (14, 13) mm after rectifying the truth quad, in any rotation."""
    s = generate_sample(seed, "photo", side=1)
    img = rectify(decode(s.image_bytes), s.truth["card_quad_xy"])
    k = 8.0

    def mean_bgr(x_mm: float, y_mm: float, r_mm: float = 3.0) -> np.ndarray:
        y0, y1 = round((y_mm - r_mm) * k), round((y_mm + r_mm) * k)
        patch = img[y0:y1, round((x_mm - r_mm) * k):round((x_mm + r_mm) * k)]
        return np.asarray(patch.reshape(-1, 3).mean(0))

    def redness(bgr: np.ndarray) -> float:
        return float(bgr[2] - (bgr[0] + bgr[1]) / 2)

    emblem = redness(mean_bgr(14, 13))
    assert emblem > 35, f"no red emblem at (14, 13) mm: {emblem:.1f} (rotation {s.truth['rotation_deg']})"
    # the same spot in the other three corners (a wrong corner order) is not red
    for x, y in ((71.6, 13), (71.6, 41), (14, 41)):
        assert redness(mean_bgr(x, y)) < emblem - 25


def test_photo_tier_rotates_some_cards_by_quarter_turns() -> None:
    rots = [generate_sample(seed, "photo", side=0).truth["rotation_deg"] for seed in range(40, 52)]
    near_quarter = [r for r in rots if min(abs(r - q) for q in (90, 180, 270)) < 6]
    assert near_quarter, rots


def test_cut_samples_completeness() -> None:
    for seed in range(2):
        t1 = generate_sample(seed, "photo", special="cut1").truth
        w, h = t1["size_wh"]
        q = np.array(t1["card_quad_xy"])
        outside = (q[:, 0] < 0) | (q[:, 0] > w) | (q[:, 1] < 0) | (q[:, 1] > h)
        assert t1["completeness"] == 1 and outside.any() and t1["cut_fields"] == []
        for fq in t1["field_quads_xy"].values():
            f = np.array(fq)
            assert np.all(f >= -0.5) and np.all(f[:, 0] <= w + 0.5) and np.all(f[:, 1] <= h + 0.5)
        t2 = generate_sample(seed, "photo", special="cut2").truth
        assert t2["completeness"] == 2 and t2["cut_fields"]
        assert set(t2["cut_fields"]) < set(t2["fields"])


def test_occlusion_glare_and_no_face_are_labelled() -> None:
    occ = generate_sample(5, "clean", special="occluded")
    assert occ.truth["occluded_fields"], occ.truth
    img = decode(occ.image_bytes)
    field = occ.truth["occluded_fields"][0]
    c = np.array(occ.truth["field_quads_xy"][field]).mean(0).round().astype(int)
    b, g, r = (int(v) for v in img[c[1], c[0]])
    assert r > b + 15, f"no skin over {field}: {(r, g, b)}"
    glare = generate_sample(6, "clean", special="glare")
    assert glare.truth["glare_fields"], glare.truth
    nf = generate_sample(7, "clean", special="no_face")
    assert nf.truth["side"] == 0 and nf.truth["face_present"] is False


def test_logic_errors_break_the_rule_they_name() -> None:
    for seed, side in ((1, 0), (2, 0), (3, 1)):
        t = generate_sample(seed, "clean", side=side, special="logic").truth
        assert t["injected_logic_errors"]
        with pytest.raises(AssertionError):
            check_rules(t)


@pytest.mark.parametrize("special", ["negative_text", "negative_card", "negative_blank", "size_small", "size_large"])
def test_negatives_and_sizes_have_expected_errors(special: str) -> None:
    s = generate_sample(3, "photo", special=special)
    t = s.truth
    img = decode(s.image_bytes)
    assert [img.shape[1], img.shape[0]] == t["size_wh"]
    assert t["fields"] == {} and t["side"] is None
    if special.startswith("size"):
        assert t["kind"] == "size" and t["expected_error"] == "INVALID_IMAGE_SIZE"
        assert min(t["size_wh"]) < 200 or max(t["size_wh"]) > 8000
        assert len(s.image_bytes) < 400_000
    else:
        assert t["kind"] == "negative" and t["expected_error"] == "ID_CARD_NOT_FOUND"
        assert min(t["size_wh"]) >= 200 and max(t["size_wh"]) <= 8000


def test_mixed_tier_draws_all_tiers_and_specials() -> None:
    truths = [generate_sample(seed, "mixed").truth for seed in range(12)]
    assert {t["tier"] for t in truths} == {"clean", "photo", "hard"}
    assert all(t["set_tier"] == "mixed" for t in truths)
    assert all(t["special"] in (None, *SPECIALS) for t in truths)


def test_cli_writes_pairs_index_and_manifest(tmp_path: Path) -> None:
    from api.cli import main

    out = tmp_path / "set"
    assert main(["synth", "--n", "4", "--seed", "9", "--out", str(out), "--tier", "clean", "--workers", "2"]) == 0
    images = sorted(p.name for p in out.glob("*.jpg"))
    assert images == [f"{i:05d}.jpg" for i in range(4)]
    assert sorted(p.name for p in out.glob("0*.json")) == [f"{i:05d}.json" for i in range(4)]
    rows = [json.loads(line) for line in (out / "index.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["index"] for r in rows] == [0, 1, 2, 3]
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["n"] == 4
    # written by worker processes, identical to the in-process API
    again = generate_sample(sample_seed(9, 2), "clean")
    assert (out / "00002.jpg").read_bytes() == again.image_bytes
    assert json.loads((out / "00002.json").read_text(encoding="utf-8")) == again.truth


@pytest.mark.parametrize("side", [0, 1])
def test_flat_card_fields_lie_where_the_ink_is(side: int) -> None:
    s = generate_flat_card(4, side)
    t = s.truth
    img = cv2.cvtColor(decode(s.image_bytes), cv2.COLOR_BGR2GRAY)
    assert [img.shape[1], img.shape[0]] == t["size_wh"]
    check_rules(t)
    for name, quad in t["field_quads_xy"].items():
        q = np.array(quad)
        x0, y0 = np.floor(q.min(0)).astype(int)
        x1, y1 = np.ceil(q.max(0)).astype(int)
        box = img[y0:y1, x0:x1]
        # values are printed in near-black ink on a pale card
        assert box.min() < 90, name
        assert (box < 110).mean() > 0.05, name
    # and the blank top margin of the card is pale
    w, h = t["size_wh"]
    strip = img[int(h * 0.02):int(h * 0.06), int(w * 0.1):int(w * 0.5)]
    assert strip.min() > 120


def _emblem_redness(img: np.ndarray, quad: list[list[float]]) -> tuple[float, float]:
    """Redness at the back's emblem (14, 13) mm and at the same spot of the opposite corner, after rectifying."""
    flat = rectify(img, quad)

    def redness(x_mm: float, y_mm: float) -> float:
        patch = flat[round((y_mm - 3) * 8) : round((y_mm + 3) * 8), round((x_mm - 3) * 8) : round((x_mm + 3) * 8)]
        bgr = patch.reshape(-1, 3).mean(0)
        return float(bgr[2] - (bgr[0] + bgr[1]) / 2)

    return redness(14, 13), redness(71.6, 41)


def test_card_alone_is_the_card_cut_out_of_its_photo_with_the_truth_moved_onto_it() -> None:
    turns = set()
    for seed in range(30):
        s = generate_sample(seed, "photo", side=1, special="card_alone")
        t = s.truth
        img = decode(s.image_bytes)
        w, h = t["size_wh"]
        assert [img.shape[1], img.shape[0]] == [w, h]
        assert abs(w / h - 85.6 / 54) < 0.01
        assert sorted(map(tuple, t["card_quad_xy"])) == sorted([(0, 0), (w, 0), (w, h), (0, h)])
        assert t["special"] == "card_alone" and t["completeness"] == 0 and t["kind"] == "card"
        for quad in t["field_quads_xy"].values():
            assert all(-1 <= x <= w + 1 and -1 <= y <= h + 1 for x, y in quad)
        emblem, opposite = _emblem_redness(img, t["card_quad_xy"])  # lt is still the printed top-left
        assert emblem > 35 and opposite < emblem - 25, (seed, t["rotation_deg"])
        turns.add(t["rotation_deg"])
        if turns == {0.0, 180.0}:
            break
    assert turns == {0.0, 180.0}  # upright, and now and then upside down


def test_cli_writes_a_set_of_one_special_case(tmp_path: Path) -> None:
    from api.cli import main
    from benchmarks.synth import cli

    assert cli.SPECIALS == SPECIALS  # the parser's copy of the list
    out = tmp_path / "alone"
    args = ["synth", "--n", "2", "--seed", "5", "--out", str(out), "--tier", "photo", "--special", "card_alone"]
    assert main([*args, "--workers", "1"]) == 0
    truths = [json.loads((out / f"{i:05d}.json").read_text(encoding="utf-8")) for i in range(2)]
    assert all(t["special"] == "card_alone" for t in truths)
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["special"] == "card_alone"
