"""Scorer figures on hand-built truth/prediction pairs (no engine, no images)."""

from __future__ import annotations

import math

import pytest

from benchmarks.scoring import (
    PredictedField,
    Prediction,
    Truth,
    corner_error,
    markdown_report,
    markdown_table,
    precision_recall,
    score,
    score_by_tier,
)
from engine.types import ZERO_QUAD, QuadXY

CARD: QuadXY = ((100.0, 100.0), (956.0, 100.0), (956.0, 640.0), (100.0, 640.0))  # 856 x 540
DIAG = math.hypot(856.0, 540.0)
FRONT = {
    "name": "陈美玲", "gender": "女", "birth_year": "1997", "birth_month": "6", "birth_day": "2",
    "address": "广东省深圳市福田区福华路100号", "idcard_number": "830000199706020042",
}


def truth(tier: str = "clean", **kw: object) -> Truth:
    base: dict[str, object] = {
        "tier": tier, "kind": "card", "side": 0, "fields": dict(FRONT), "card_quad_xy": [list(p) for p in CARD],
        "completeness": 0, "occluded_fields": [], "face_present": True, "expected_error": None,
        "injected_logic_errors": [],
    }
    base.update(kw)
    return Truth.from_json(base)


def negative(tier: str = "clean", error: str = "ID_CARD_NOT_FOUND") -> Truth:
    kind = "negative" if error == "ID_CARD_NOT_FOUND" else "size"
    return Truth.from_json({"tier": tier, "kind": kind, "side": None, "fields": {}, "card_quad_xy": None,
                            "completeness": None, "expected_error": error})


def pred(
    fields: dict[str, str] | None = None, *, side: int = 0, quad: QuadXY | None = CARD,
    logic: frozenset[str] = frozenset(), completeness: int = 0, portrait: bool = True, latency: float = 10.0,
) -> Prediction:
    values = dict(FRONT) if fields is None else fields
    return Prediction(
        latency_ms=latency, side=side,
        fields={k: PredictedField(v, 0.9, 1 if k in logic else 0) for k, v in values.items()},
        card_quad_xy=quad, completeness=completeness, result_code=1001, portrait_returned=portrait,
    )


def rate(value: dict[str, object]) -> tuple[object, object]:
    return value["hits"], value["total"]


def test_perfect_card_scores_everything_right() -> None:
    s = score([(truth(), pred())])
    assert all(rate(v) == (1, 1) for v in s["fields"].values())
    assert set(s["fields"]) == set(FRONT)
    for key in ("all_fields_correct", "side_accuracy", "card_found", "completeness_accuracy",
                "rect_within_2pct", "portrait_when_face"):
        assert rate(s[key]) == (1, 1), key
    assert s["failures"] == 0
    assert s["rect_median_error_pct"] == 0.0


def test_one_wrong_field_breaks_whole_card_but_only_that_field() -> None:
    wrong = dict(FRONT, idcard_number="830000199706020043")
    s = score([(truth(), pred(wrong)), (truth(), pred())])
    assert rate(s["fields"]["idcard_number"]) == (1, 2)
    assert rate(s["fields"]["name"]) == (2, 2)
    assert rate(s["all_fields_correct"]) == (1, 2)
    assert s["all_fields_correct"]["rate"] == 0.5


def test_exact_match_ignores_surrounding_spaces_only() -> None:
    s = score([(truth(), pred(dict(FRONT, name=" 陈美玲 "))), (truth(), pred(dict(FRONT, name="陈美")))])
    assert rate(s["fields"]["name"]) == (1, 2)


def test_wrong_side_makes_every_field_wrong() -> None:
    s = score([(truth(), pred(side=1))])
    assert rate(s["side_accuracy"]) == (0, 1)
    assert all(rate(v) == (0, 1) for v in s["fields"].values())
    assert rate(s["card_found"]) == (1, 1)


def test_occluded_fields_reported_apart_and_not_counted_as_failures() -> None:
    t = truth(occluded_fields=["address"])
    s = score([(t, pred(dict(FRONT, address="广东省")))])
    assert "address" not in s["fields"]
    assert rate(s["unreadable_fields"]["address"]) == (0, 1)
    assert rate(s["all_fields_correct"]) == (1, 1)
    cut = truth(cut_fields=["name", "gender"], completeness=2)
    s = score([(cut, pred(dict(FRONT, name="", gender=""), completeness=2))])
    assert rate(s["unreadable_fields"]["name"]) == (0, 1) and "name" not in s["fields"]
    assert rate(s["all_fields_correct"]) == (1, 1)
    assert "| occluded/cut/glare `name` (info) | 0.0% (0/1) |" in markdown_table({"e": s})


@pytest.mark.parametrize(
    ("shift_frac", "within"),
    [(0.0, True), (0.019, True), (0.021, False), (0.5, False)],
)
def test_corner_error_is_max_corner_distance_over_diagonal(shift_frac: float, within: bool) -> None:
    dx = shift_frac * DIAG
    moved: QuadXY = (CARD[0], CARD[1], (CARD[2][0] + dx, CARD[2][1]), CARD[3])
    err = corner_error(moved, CARD)
    assert err == pytest.approx(shift_frac)
    assert rate(score([(truth(), pred(quad=moved))])["rect_within_2pct"]) == (int(within), 1)


def test_zero_or_missing_rect_is_a_failure() -> None:
    assert corner_error(ZERO_QUAD, CARD) == math.inf
    assert corner_error(None, CARD) == math.inf
    s = score([(truth(), pred(quad=ZERO_QUAD)), (truth(), pred())])
    assert rate(s["rect_within_2pct"]) == (1, 2)


def test_negatives_and_size_errors() -> None:
    samples = [
        (negative(), Prediction(latency_ms=5, error="ID_CARD_NOT_FOUND")),
        (negative(), pred()),  # a card "found" on a negative
        (negative(), Prediction(latency_ms=5, failure="junk: non-JSON body")),
        (negative(error="INVALID_IMAGE_SIZE"), Prediction(latency_ms=5, error="INVALID_IMAGE_SIZE")),
        (negative(error="INVALID_IMAGE_SIZE"), Prediction(latency_ms=5, error="ID_CARD_NOT_FOUND")),
    ]
    s = score(samples)
    assert rate(s["negatives_rejected"]) == (1, 3)
    assert rate(s["size_errors_correct"]) == (1, 2)
    assert s["positives"] == 0
    assert s["card_found"]["total"] == 0
    assert s["failures"] == 1


def test_failures_on_positives_are_wrong_everywhere() -> None:
    s = score([(truth(), Prediction(latency_ms=1, failure="http: status 500"))])
    assert s["failures"] == 1
    assert s["failure_kinds"] == {"http": 1}
    assert rate(s["card_found"]) == (0, 1)
    assert rate(s["fields"]["name"]) == (0, 1)
    assert rate(s["rect_within_2pct"]) == (0, 1)
    assert rate(s["portrait_when_face"]) == (0, 1)


def test_logic_precision_recall_per_field_and_card() -> None:
    samples = [
        # injected on the id number, flagged: TP
        (truth(injected_logic_errors=["idcard_number"]), pred(logic=frozenset({"idcard_number"}))),
        # injected on gender, flagged the id number instead: FP + FN (card level: TP)
        (truth(injected_logic_errors=["gender"]), pred(logic=frozenset({"idcard_number"}))),
        # nothing injected, flagged: FP
        (truth(), pred(logic=frozenset({"birth_year"}))),
        # injected, not flagged: FN
        (truth(injected_logic_errors=["birth_day"]), pred()),
        # a flag on an unread field is not a logic flag
        (truth(), pred(dict(FRONT, name=""), logic=frozenset({"name"}))),
    ]
    logic = score(samples)["logic"]
    assert (logic["tp"], logic["fp"], logic["fn"]) == (1, 2, 2)
    assert logic["field_precision"] == pytest.approx(1 / 3)
    assert logic["field_recall"] == pytest.approx(1 / 3)
    assert logic["card_precision"] == pytest.approx(2 / 3)  # cards 1, 2 right; card 3 wrong
    assert logic["card_recall"] == pytest.approx(2 / 3)  # card 4 missed


def test_logic_is_na_without_injected_errors() -> None:
    logic = score([(truth(), pred(logic=frozenset({"name"})))])["logic"]
    assert logic["field_precision"] is None and logic["field_recall"] is None
    assert precision_recall(0, 0, 0) == (None, None)


def test_portrait_present_and_absent() -> None:
    samples = [
        (truth(face_present=True), pred(portrait=True)),
        (truth(face_present=True), pred(portrait=False)),
        (truth(face_present=False), pred(portrait=False)),
        (truth(face_present=False), pred(portrait=True)),
        (truth(face_present=False, side=1, fields={"issued_by": "x"}), pred({"issued_by": "x"}, side=1)),
    ]
    s = score(samples)
    assert rate(s["portrait_when_face"]) == (1, 2)
    assert rate(s["no_portrait_when_no_face"]) == (1, 2)


def test_completeness_and_latency() -> None:
    s = score([(truth(completeness=1), pred(completeness=1, latency=10)),
               (truth(completeness=0), pred(completeness=2, latency=30)),
               (truth(), pred(latency=50))])
    assert rate(s["completeness_accuracy"]) == (2, 3)
    assert s["latency_ms_mean"] == pytest.approx(30)
    assert s["latency_ms_median"] == pytest.approx(30)


def test_per_tier_split() -> None:
    samples = [
        (truth("clean"), pred()),
        (truth("clean"), pred()),
        (truth("photo"), pred(dict(FRONT, name="x"))),
        (negative("photo"), Prediction(latency_ms=1, error="ID_CARD_NOT_FOUND")),
    ]
    by = score_by_tier(samples)
    assert set(by["tiers"]) == {"clean", "photo"}
    assert rate(by["overall"]["all_fields_correct"]) == (2, 3)
    assert rate(by["tiers"]["clean"]["all_fields_correct"]) == (2, 2)
    assert rate(by["tiers"]["photo"]["all_fields_correct"]) == (0, 1)
    assert rate(by["tiers"]["photo"]["negatives_rejected"]) == (1, 1)
    assert by["tiers"]["clean"]["negatives_rejected"]["total"] == 0
    assert set(by["specials"]) == {"plain"}


def test_markdown_has_engines_as_columns() -> None:
    a = score_by_tier([(truth(), pred())])
    b = score_by_tier([(truth(), pred(dict(FRONT, name="x")))])
    table = markdown_table({"hmt": a["overall"], "baseline": b["overall"]})
    header = table.splitlines()[0]
    assert header == "| figure | hmt | baseline |"
    name_row = next(line for line in table.splitlines() if line.startswith("| field `name`"))
    assert name_row == "| field `name` | 100.0% (1/1) | 0.0% (0/1) |"
    assert "logic field precision | n/a | n/a" in table
    report = markdown_report({"hmt": a, "baseline": b})
    assert "tier `clean`" in report


def test_glared_fields_are_scored_apart_like_occluded_ones() -> None:
    t = truth(glare_fields=["idcard_number"])
    s = score([(t, pred(dict(FRONT, idcard_number="8100001997060")))])
    assert "idcard_number" not in s["fields"]
    assert rate(s["unreadable_fields"]["idcard_number"]) == (0, 1)
    assert rate(s["fields"]["name"]) == (1, 1)
