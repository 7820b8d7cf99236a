"""Schemathesis against the live server's /openapi.json, positive and negative cases, with a valid sign
put in and without: no 500, no hang (a 30 s client timeout), every error the vendor's."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from conftest import KEY, SECRET
from fuzz_support import VENDOR_ERROR, bounded
from hypothesis import given
from hypothesis.errors import Unsatisfiable

from api.auth import build_sign

EXAMPLES = {"/faceid/v5/ocr_residence_permit_card": 120}


def check_vendor(response: Any) -> None:
    status = response.status_code
    assert status != 500 and status < 500, f"{status}: {response.text[:200]}"
    if status == 413:
        assert response.text == "Request Entity Too Large"
    elif status >= 400:
        body = response.json()
        assert isinstance(body, dict) and VENDOR_ERROR.fullmatch(body.get("error", "")), response.text[:200]
        assert isinstance(body["time_used"], int)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_openapi_operations(live_url: str, signed: bool, mode: schemathesis.GenerationMode) -> None:
    schema = schemathesis.openapi.from_dict(httpx.get(live_url + "/openapi.json").json())
    calls: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(generation_mode=mode))
        @bounded(EXAMPLES.get(operation.path, 15), deadline_ms=None)
        def run(case: Any) -> None:
            if signed and isinstance(case.body, dict):
                case.body["sign"] = build_sign(KEY, SECRET)
                case.body["sign_version"] = "hmac_sha1"
            check_vendor(case.call(base_url=live_url, timeout=30))
            calls.append(1)

        try:
            run()
        except Unsatisfiable:  # an operation with no inputs has no negative cases
            assert mode is schemathesis.GenerationMode.NEGATIVE
    assert len(calls) >= 50
