"""Golden files pin the wire shape of both sides; the parser is the mapping's inverse and refuses junk."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest
from wire_cards import JPEG, back_card, front_card

from api.wire import WireFormatError, card_result_to_wire, error_body, parse_wire_response
from engine.types import CardResult, Portrait, ResultCode, Side

GOLDEN = Path(__file__).parent / "golden"
REQUEST_ID = "1526629075,8dcd4722-9f2b-42ca-a2c3-bae3a061b20f"


CASES: dict[str, tuple[CardResult, bool]] = {
    "front": (front_card(), True),
    "front_no_portrait": (front_card(), False),
    "back": (back_card(), True),  # the back never carries a portrait, even when asked
}


def _render(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str) -> None:
    card, return_portrait = CASES[name]
    body = card_result_to_wire(card, request_id=REQUEST_ID, time_used_ms=442, return_portrait=return_portrait)
    path = GOLDEN / f"{name}.json"
    if os.environ.get("HMTOCR_REGEN_GOLDEN") == "1":
        path.write_text(_render(body), encoding="utf-8")
    # Compared as text: the key order is part of the contract.
    assert _render(body) == path.read_text(encoding="utf-8")


def test_front_shape_details() -> None:
    body = card_result_to_wire(front_card(), request_id=REQUEST_ID, time_used_ms=442, return_portrait=True)
    assert list(body)[:4] == ["request_id", "time_used", "result", "side"]
    assert list(body)[-2:] == ["completeness", "card_rect"]
    assert list(body["name"]) == ["quality", "result", "rect", "logic"]
    assert list(body["name"]["rect"]) == ["rt", "lt", "lb", "rb"]
    assert body["name"]["quality"] == 0.956
    assert body["address"]["quality"] == 0.007
    assert body["card_rect"]["lt"] == {"y": 50, "x": 89}  # ints, rounded
    assert all(isinstance(v, int) for c in body["card_rect"].values() for v in c.values())
    assert base64.b64decode(body["portrait"]["result"]) == JPEG
    assert "eep_number" not in body and "hmt_issue_count" not in body


def test_back_extras() -> None:
    body = card_result_to_wire(back_card(), request_id=REQUEST_ID, time_used_ms=1, return_portrait=True)
    assert body["epp_number"] == body["eep_number"]
    assert body["hmt_issue_count"]["result"] == "01"
    assert "portrait" not in body and "issue_count" not in body and "name" not in body


def test_portrait_only_when_face_found() -> None:
    card = front_card()
    no_face = CardResult(
        side=card.side, fields=card.fields, card_quad_xy=card.card_quad_xy, completeness=0,
        result_code=card.result_code, portrait=Portrait(quad_xy=card.card_quad_xy, face_found=False),
    )
    body = card_result_to_wire(no_face, request_id=REQUEST_ID, time_used_ms=1, return_portrait=True)
    assert "portrait" not in body


def test_missing_engine_field_is_an_empty_unreadable_field() -> None:
    card = back_card()
    partial = CardResult(
        side=card.side, fields=card.fields[:2], card_quad_xy=card.card_quad_xy, completeness=0,
        result_code=ResultCode.EXCEPTION,
    )
    body = card_result_to_wire(partial, request_id=REQUEST_ID, time_used_ms=1, return_portrait=False)
    assert body["eep_number"]["result"] == "" and body["eep_number"]["logic"] == 1
    assert body["eep_number"]["rect"]["lt"] == {"y": 0, "x": 0}


@pytest.mark.parametrize("card", [front_card(), back_card()], ids=["front", "back"])
def test_parse_is_the_inverse(card: CardResult) -> None:
    body = card_result_to_wire(card, request_id=REQUEST_ID, time_used_ms=442, return_portrait=True)
    wire = parse_wire_response(json.loads(json.dumps(body)))
    assert wire.error is None and wire.request_id == REQUEST_ID and wire.time_used_ms == 442
    parsed = wire.card
    assert parsed is not None
    assert parsed.side == card.side and parsed.result_code == card.result_code
    assert parsed.completeness == card.completeness
    assert {f.name: f.text for f in parsed.fields} == {f.name: f.text for f in card.fields}
    for f in card.fields:
        p = parsed.field(f.name)
        assert p is not None and p.logic == f.logic and abs(p.quality - f.quality) <= 0.0005
        for (px, py), (fx, fy) in zip(p.quad_xy, f.quad_xy, strict=True):
            assert abs(px - fx) <= 0.5 and abs(py - fy) <= 0.5
    if card.side == Side.FRONT:
        assert parsed.portrait is not None and parsed.portrait.jpeg == JPEG


def test_parse_tolerates_other_servers() -> None:
    body = card_result_to_wire(back_card(), request_id=REQUEST_ID, time_used_ms=1, return_portrait=False)
    del body["eep_number"], body["hmt_issue_count"], body["card_rect"]
    body["legality"] = {"Edited": 0}  # a vendor extra we ignore
    body["issued_by"]["quality"] = 1.2  # clamped
    body["valid_date_end"]["result"] = None
    card = parse_wire_response(body).card
    assert card is not None
    assert card.field("eep_number") is not None and card.field("eep_number").text == "H12345678"  # type: ignore[union-attr]
    assert card.field("issue_count") is None
    assert card.field("issued_by").quality == 1.0  # type: ignore[union-attr]
    assert card.field("valid_date_end").text == ""  # type: ignore[union-attr]


def test_error_bodies_round_trip() -> None:
    body = error_body("MISSING_ARGUMENTS: image", request_id=REQUEST_ID, time_used_ms=3)
    assert body == {"request_id": REQUEST_ID, "time_used": 3, "error": "MISSING_ARGUMENTS: image"}
    assert list(error_body("API_NOT_FOUND", request_id=None, time_used_ms=0)) == ["time_used", "error"]
    wire = parse_wire_response(body)
    assert wire.error == "MISSING_ARGUMENTS: image" and wire.card is None


@pytest.mark.parametrize(
    "junk",
    [
        None, [], "text", 42, {}, {"result": 1001}, {"side": 0}, {"error": 7},
        {"result": 1003, "side": 0}, {"result": "x", "side": 0}, {"result": 1001, "side": 2},
        {"result": 1001, "side": 0, "name": "张三"},
        {"result": 1001, "side": 0, "name": {"result": 5}},
        {"result": 1001, "side": 0, "name": {"result": "a", "quality": "high"}},
        {"result": 1001, "side": 0, "name": {"result": "a", "rect": {"lt": {"x": 1}}}},
        {"result": 1001, "side": 0, "card_rect": []},
        {"result": 1001, "side": 0, "completeness": 7},
        {"result": 1001, "side": 0, "portrait": {"result": "not base64!"}},
        {"result": True, "side": 0},
        {"result": 1001, "side": 0, "time_used": float("nan")},
    ],
)
def test_junk_raises_a_clear_error(junk: Any) -> None:
    with pytest.raises(WireFormatError):
        parse_wire_response(junk)
