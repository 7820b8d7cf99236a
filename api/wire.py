"""Engine result <-> vendor JSON. Pure functions, no I/O; golden-file tested (tests/api/golden/).

Shape (`/faceid/v5/ocr_residence_permit_card`):

    {"request_id": "<unix seconds>,<uuid>", "time_used": <int ms>, "result": 1001|1002, "side": 0|1,
     <field>: {"quality": <float, 3 decimals>, "result": <str>,
               "rect": {"rt": {"y", "x"}, "lt": {...}, "lb": {...}, "rb": {...}}, "logic": 0|1},
     ...
     "portrait": <same shape, result = JPG base64>   (front, when asked: the photo area, face or not)
     "completeness": 0|1|2, "card_rect": {"rt", "lt", "lb", "rb"}}

Key order inside a field, a rect and a point follows the vendor's examples (quality, result, rect,
logic; rt, lt, lb, rb; y, x). Coordinates are ints (rounded). Extras beyond the vendor on the back:
`epp_number` (mirrors `eep_number`) and `hmt_issue_count` (签发次数).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.types import (
    ZERO_QUAD,
    CardResult,
    FieldResult,
    Portrait,
    QuadXY,
    ResultCode,
    Side,
)

# Wire order of the fields per side: (wire key, engine field name).
FRONT_WIRE_FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "name"),
    ("gender", "gender"),
    ("birth_year", "birth_year"),
    ("birth_month", "birth_month"),
    ("birth_day", "birth_day"),
    ("idcard_number", "idcard_number"),
    ("address", "address"),
)
BACK_WIRE_FIELDS: tuple[tuple[str, str], ...] = (
    ("issued_by", "issued_by"),
    ("valid_date_start", "valid_date_start"),
    ("valid_date_end", "valid_date_end"),
    ("eep_number", "eep_number"),
    ("epp_number", "eep_number"),  # the vendor's encryption page spells it so
    ("hmt_issue_count", "issue_count"),  # our addition: 签发次数
)
# Fields whose `result` is encrypted when encryption_type is 1 or 2 (the vendor's list).
ENCRYPTED_WIRE_FIELDS: frozenset[str] = frozenset(
    {
        "name",
        "gender",
        "nationality",
        "birth_year",
        "birth_month",
        "birth_day",
        "idcard_number",
        "address",
        "portrait",
        "issued_by",
        "valid_date_start",
        "valid_date_end",
        "eep_number",
        "epp_number",
        "hmt_issue_count",
    }
)
_CORNERS: tuple[str, ...] = ("lt", "rt", "rb", "lb")  # the order of QuadXY
_WIRE_CORNER_ORDER: tuple[str, ...] = ("rt", "lt", "lb", "rb")  # the order of the vendor's examples


class WireFormatError(ValueError):
    """The body is not a response of this protocol; the message says which part is wrong."""


@dataclass(frozen=True, slots=True)
class WireResponse:
    """A parsed response: `error` set and `card` None on failure, the reverse on success."""

    request_id: str | None
    time_used_ms: int | None
    error: str | None
    card: CardResult | None
    # The vendor's result code as sent (the card holds it as ResultCode when it is 1001/1002).
    result_code: int | None = None


# ---------------------------------------------------------------------------------------------------
# engine -> wire


def rect_to_wire(quad_xy: QuadXY) -> dict[str, dict[str, int]]:
    points = dict(zip(_CORNERS, quad_xy, strict=True))
    return {c: {"y": _coord(points[c][1]), "x": _coord(points[c][0])} for c in _WIRE_CORNER_ORDER}


def _coord(value: float) -> int:
    return round(float(value)) if math.isfinite(value) else 0


def _field_to_wire(text: str, quality: float, quad_xy: QuadXY, logic: int) -> dict[str, Any]:
    return {"quality": round(float(quality), 3), "result": text, "rect": rect_to_wire(quad_xy), "logic": logic}


def _missing_field(name: str) -> FieldResult:
    # The engine always returns every field of its side; a gap is reported the way the vendor
    # reports a field it could not read: empty text, zero rect, logic 1.
    return FieldResult(name=name, text="", quality=0.0, quad_xy=ZERO_QUAD, logic=1)


def card_result_to_wire(
    result: CardResult, *, request_id: str, time_used_ms: int, return_portrait: bool
) -> dict[str, Any]:
    """The vendor's JSON for one recognised card (before any field encryption)."""
    body: dict[str, Any] = {
        "request_id": request_id,
        "time_used": int(time_used_ms),
        "result": int(result.result_code),
        "side": int(result.side),
    }
    wire_fields = FRONT_WIRE_FIELDS if result.side == Side.FRONT else BACK_WIRE_FIELDS
    for wire_name, field_name in wire_fields:
        f = result.field(field_name) or _missing_field(field_name)
        body[wire_name] = _field_to_wire(f.text, f.quality, f.quad_xy, f.logic)
    portrait = result.portrait
    if return_portrait and result.side == Side.FRONT and portrait is not None and portrait.jpeg:
        # quality of the portrait "has no meaning for now" on the vendor's page: always 0.
        body["portrait"] = _field_to_wire(base64.b64encode(portrait.jpeg).decode("ascii"), 0.0, portrait.quad_xy, 0)
    body["completeness"] = int(result.completeness)
    body["card_rect"] = rect_to_wire(result.card_quad_xy)
    return body


def error_body(error: str, *, request_id: str | None, time_used_ms: int) -> dict[str, Any]:
    """A JSON error body; `request_id` None leaves it out (404 API_NOT_FOUND, 403 AUTHORIZATION_ERROR)."""
    body: dict[str, Any] = {}
    if request_id is not None:
        body["request_id"] = request_id
    body["time_used"] = int(time_used_ms)
    body["error"] = error
    return body


# ---------------------------------------------------------------------------------------------------
# wire -> engine types (tolerant: any server speaking the protocol)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise WireFormatError(f"{where}: expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except ValueError as exc:
        raise WireFormatError(f"{where}: expected a number, got {value!r:.40}") from exc
    if not math.isfinite(number):
        raise WireFormatError(f"{where}: not a finite number")
    return number


def _int(value: Any, where: str) -> int:
    number = _number(value, where)
    if number != int(number):
        raise WireFormatError(f"{where}: expected an integer, got {number}")
    return int(number)


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise WireFormatError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def parse_rect(value: Any, where: str = "rect") -> QuadXY:
    rect = _mapping(value, where)
    points: list[tuple[float, float]] = []
    for corner in _CORNERS:
        if corner not in rect:
            raise WireFormatError(f"{where}: corner {corner!r} missing")
        point = _mapping(rect[corner], f"{where}.{corner}")
        if "x" not in point or "y" not in point:
            raise WireFormatError(f"{where}.{corner}: needs x and y")
        points.append((_number(point["x"], f"{where}.{corner}.x"), _number(point["y"], f"{where}.{corner}.y")))
    return (points[0], points[1], points[2], points[3])


def _parse_field(name: str, value: Any, where: str) -> FieldResult:
    f = _mapping(value, where)
    text = f.get("result", "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise WireFormatError(f"{where}.result: expected a string, got {type(text).__name__}")
    quality = min(1.0, max(0.0, _number(f.get("quality", 0.0), f"{where}.quality")))
    quad = parse_rect(f["rect"], f"{where}.rect") if "rect" in f else ZERO_QUAD
    logic = 1 if _int(f.get("logic", 0), f"{where}.logic") else 0
    return FieldResult(name=name, text=text, quality=quality, quad_xy=quad, logic=logic)


def parse_wire_response(body: Any) -> WireResponse:
    """Inverse of `card_result_to_wire` / `error_body`. Raises `WireFormatError` on anything else.

    Tolerant of other servers: unknown keys are ignored, `epp_number` stands in for a missing
    `eep_number`, absent fields are left out of the card, qualities are clamped to [0, 1].
    """
    body = _mapping(body, "body")
    request_id = body.get("request_id")
    if request_id is not None and not isinstance(request_id, str):
        raise WireFormatError("request_id: expected a string")
    time_used = _int(body["time_used"], "time_used") if body.get("time_used") is not None else None
    error = body.get("error")
    if error is not None:
        if not isinstance(error, str) or not error:
            raise WireFormatError("error: expected a non-empty string")
        return WireResponse(request_id=request_id, time_used_ms=time_used, error=error, card=None)
    for key in ("result", "side"):
        if key not in body:
            raise WireFormatError(f"{key}: missing (and no error either)")
    result_code = _int(body["result"], "result")
    try:
        code = ResultCode(result_code)
    except ValueError as exc:
        raise WireFormatError(f"result: unknown result code {result_code}") from exc
    side_value = _int(body["side"], "side")
    try:
        side = Side(side_value)
    except ValueError as exc:
        raise WireFormatError(f"side: expected 0 or 1, got {side_value}") from exc

    aliases: dict[str, tuple[str, ...]] = {}
    for wire_name, field_name in FRONT_WIRE_FIELDS if side == Side.FRONT else BACK_WIRE_FIELDS:
        aliases.setdefault(field_name, ())
        aliases[field_name] += (wire_name,)
    if side == Side.BACK:
        aliases["issue_count"] += ("issue_count",)  # a server that returns it under the plain name
    fields: list[FieldResult] = []
    for field_name, wire_names in aliases.items():
        present = next((w for w in wire_names if w in body), None)
        if present is not None:
            fields.append(_parse_field(field_name, body[present], present))

    portrait = None
    if "portrait" in body:
        p = _parse_field("portrait", body["portrait"], "portrait")
        try:
            jpeg = base64.b64decode("".join(p.text.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise WireFormatError("portrait.result: not base64") from exc
        portrait = Portrait(quad_xy=p.quad_xy, face_found=True, jpeg=jpeg)

    completeness = _int(body.get("completeness", 0), "completeness")
    if completeness not in (0, 1, 2):
        raise WireFormatError(f"completeness: expected 0, 1 or 2, got {completeness}")
    card_quad = parse_rect(body["card_rect"], "card_rect") if "card_rect" in body else ZERO_QUAD
    card = CardResult(
        side=side,
        fields=tuple(fields),
        card_quad_xy=card_quad,
        completeness=completeness,
        result_code=code,
        portrait=portrait,
    )
    return WireResponse(request_id=request_id, time_used_ms=time_used, error=None, card=card, result_code=result_code)
