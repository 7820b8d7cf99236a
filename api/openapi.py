"""OpenAPI for the endpoint: the form is parsed by hand (vendor errors instead of FastAPI's 422), so it is
described here, with every status the vendor's table can answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

_FIELD_SCHEMA = {
    "type": "object",
    "properties": {
        "quality": {"type": "number", "description": "0..1, 3 decimals; below 0.15 is a quality problem"},
        "result": {"type": "string", "description": "the text ('' when not read); Base64 ciphertext if encrypted"},
        "rect": {"$ref": "#/components/schemas/Rect"},
        "logic": {"type": "integer", "enum": [0, 1]},
    },
}
OPENAPI_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["sign", "sign_version", "image"],
                    "properties": {
                        "sign": {
                            "type": "string",
                            "description": "Base64(HMAC_SHA1(secret, raw) || raw), "
                            "raw = a=<api_key>&b=<expire>&c=<now>&d=<random>; see docs/CLIENT.md",
                        },
                        "sign_version": {"type": "string", "enum": ["hmac_sha1"]},
                        "image": {
                            "type": "string",
                            "format": "binary",
                            "description": "< 10 MB, 200..8000 px; with encryption the framed Base64 text",
                        },
                        "return_portrait": {"type": "string", "enum": ["0", "1"], "default": "0"},
                        "exception_range": {
                            "type": "string",
                            "description": 'JSON object: {"text_quality": true, "logic": true, '
                            '"completeness": false, "face_detect": false} (defaults shown)',
                        },
                        "encryption_type": {
                            "type": "string",
                            "enum": ["0", "1", "2"],
                            "default": "0",
                            "description": "0 none, 1 SM2, 2 RSA (OAEP-SHA256)",
                        },
                    },
                }
            }
        },
    }
}
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "request_id": {"type": "string"},
        "time_used": {"type": "integer"},
        "error": {"type": "string"},
    },
}
OPENAPI_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A card was found: `result` 1001 or 1002, `side` 0 (front) or 1 (back), one object per "
        "field of that side (front: name gender birth_year birth_month birth_day idcard_number address "
        "[portrait]; back: issued_by valid_date_start valid_date_end eep_number epp_number hmt_issue_count), "
        "`completeness`, `card_rect`.",
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "request_id": {"type": "string", "example": "1526629075,8dcd4722-9f2b-42ca-a2c3-bae3a061b20f"},
                        "time_used": {"type": "integer"},
                        "result": {"type": "integer", "enum": [1001, 1002]},
                        "side": {"type": "integer", "enum": [0, 1]},
                        "name": _FIELD_SCHEMA,
                        "completeness": {"type": "integer", "enum": [0, 1, 2]},
                        "card_rect": {"$ref": "#/components/schemas/Rect"},
                    },
                    "additionalProperties": _FIELD_SCHEMA,
                }
            }
        },
    },
    400: {
        "description": "MISSING_ARGUMENTS: <key> | BAD_ARGUMENTS: <key> | INVALID_IMAGE_SIZE: image | "
        "IMAGE_ERROR_UNSUPPORTED_FORMAT: image | ID_CARD_NOT_FOUND | KEY_NOT_FOUND",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
    403: {
        "description": "AUTHENTICATION_ERROR | AUTHORIZATION_ERROR:DENIED. | AUTHORIZATION_ERROR:Limit reached. "
        "(no request_id) | CONCURRENCY_LIMIT_EXCEEDED",
        "content": {"application/json": {"schema": _ERROR_SCHEMA}},
    },
    404: {"description": "API_NOT_FOUND (no request_id)", "content": {"application/json": {"schema": _ERROR_SCHEMA}}},
    413: {
        "description": "Request Entity Too Large (plain text): body or image over 10 MB",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    },
    500: {"description": "INTERNAL_ERROR", "content": {"application/json": {"schema": _ERROR_SCHEMA}}},
}


def _rect_schema() -> dict[str, Any]:
    point = {"type": "object", "properties": {"y": {"type": "integer"}, "x": {"type": "integer"}}}
    return {"type": "object", "properties": {c: point for c in ("rt", "lt", "lb", "rb")}}


def install_openapi_components(app: FastAPI) -> None:
    original: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        schema = original()
        schema.setdefault("components", {}).setdefault("schemas", {})["Rect"] = _rect_schema()
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
