"""The HTTP contract through a real server process: every row of the vendor's error table."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_server import Server
from PIL import Image

from api.auth import build_sign, sign_raw

MiB = 1024 * 1024


def small_jpeg(size_px: int = 150) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size_px, size_px), (200, 180, 160)).save(buf, format="JPEG")
    return buf.getvalue()


def post(
    server: Server,
    *,
    key: str = "main",
    sign: str | None = None,
    image: bytes | None = b"\x89PNG not really",
    drop: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    k = server.keys[key]
    data = {"sign": sign if sign is not None else build_sign(k.api_key, k.api_secret), "sign_version": "hmac_sha1"}
    data.update(fields)
    for name in drop:
        data.pop(name, None)
    files = {"image": ("image.jpg", image, "image/jpeg")} if image is not None else None
    return httpx.post(server.endpoint, data=data, files=files, headers=headers, timeout=60)


def assert_error(response: httpx.Response, status: int, error: str, *, request_id: bool = True) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert isinstance(body["time_used"], int)
    if request_id:
        seconds, _, uuid = body["request_id"].partition(",")
        assert abs(int(seconds) - time.time()) < 600 and len(uuid) == 36
        assert list(body) == ["request_id", "time_used", "error"]
    else:
        assert "request_id" not in body
    return body


def test_healthz_metrics_and_docs(server: Server) -> None:
    assert httpx.get(server.url + "/healthz").json() == {"status": "ok", "engine": "hmt"}
    assert httpx.get(server.url + "/docs").status_code == 200
    spec = httpx.get(server.url + "/openapi.json").json()
    op = spec["paths"]["/faceid/v5/ocr_residence_permit_card"]["post"]
    props = op["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    assert {"sign", "sign_version", "image", "return_portrait", "exception_range", "encryption_type"} <= set(props)
    assert {"200", "400", "403", "404", "413", "500"} <= set(op["responses"])
    assert "422" not in op["responses"]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"drop": ("sign",)}, "MISSING_ARGUMENTS: sign"),
        ({"drop": ("sign_version",)}, "MISSING_ARGUMENTS: sign_version"),
        ({"sign_version": "hmac_sha256"}, "BAD_ARGUMENTS: sign_version"),
        ({"image": None}, "MISSING_ARGUMENTS: image"),
        ({"return_portrait": "yes"}, "BAD_ARGUMENTS: return_portrait"),
        ({"exception_range": "{not json"}, "BAD_ARGUMENTS: exception_range"),
        ({"exception_range": '{"logic": "false"}'}, "BAD_ARGUMENTS: exception_range"),
        ({"exception_range": "[true]"}, "BAD_ARGUMENTS: exception_range"),
        ({"encryption_type": "3"}, "BAD_ARGUMENTS: encryption_type"),
        ({"image": os.urandom(4096)}, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"),
        ({"image": b""}, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image"),
        ({"image": small_jpeg(150)}, "INVALID_IMAGE_SIZE: image"),
        ({"key": "plain", "encryption_type": "1"}, "KEY_NOT_FOUND"),
        ({"key": "plain", "encryption_type": "2"}, "KEY_NOT_FOUND"),
        ({"encryption_type": "1", "image": b"bm90IGVuY3J5cHRlZA=="}, "BAD_ARGUMENTS: image"),
        ({"encryption_type": "2", "image": b"%%% not base64"}, "BAD_ARGUMENTS: image"),
    ],
    ids=lambda v: str(v)[:40],
)
def test_bad_requests(server: Server, kwargs: dict[str, Any], error: str) -> None:
    assert_error(post(server, **kwargs), 400, error)


def test_authentication_errors(server: Server) -> None:
    main = server.keys["main"]
    assert_error(post(server, sign=build_sign(main.api_key, "wrong-secret")), 403, "AUTHENTICATION_ERROR")
    expired = build_sign(main.api_key, main.api_secret, valid_s=60, now_s=int(time.time()) - 3600)
    assert_error(post(server, sign=expired), 403, "AUTHENTICATION_ERROR")
    future = build_sign(main.api_key, main.api_secret, now_s=int(time.time()) + 3600)
    assert_error(post(server, sign=future), 403, "AUTHENTICATION_ERROR")
    assert_error(post(server, sign="not a sign"), 403, "AUTHENTICATION_ERROR")


def test_single_use_sign_is_refused_on_replay(server: Server) -> None:
    main = server.keys["main"]
    sign = build_sign(main.api_key, main.api_secret, single_use=True)
    assert_error(post(server, sign=sign), 400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image")  # accepted once
    assert_error(post(server, sign=sign), 403, "AUTHENTICATION_ERROR")


def test_milliseconds_and_wrapped_sign_are_accepted(server: Server) -> None:
    main = server.keys["main"]
    now_ms = int(time.time() * 1000)
    sign = sign_raw(main.api_secret, f"a={main.api_key}&b={now_ms + 600_000}&c={now_ms}&d=42")
    wrapped = "\n".join(sign[i : i + 40] for i in range(0, len(sign), 40))
    assert_error(post(server, sign=wrapped), 400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image")


def test_authorization_errors_carry_no_request_id(server: Server) -> None:
    assert_error(post(server, key="disabled"), 403, "AUTHORIZATION_ERROR:DENIED.", request_id=False)


def test_unknown_key_answers_as_a_wrong_digest(server: Server) -> None:
    """No key-id oracle: an unknown key and a known key with a bad digest get the same answer."""
    unknown = build_sign("k-nobody", "whatever")
    assert_error(post(server, sign=unknown), 403, "AUTHENTICATION_ERROR")


def test_long_lived_signs_are_refused(server: Server) -> None:
    main = server.keys["main"]
    now = int(time.time())
    ten_years = sign_raw(main.api_secret, f"a={main.api_key}&b={now + 10 * 365 * 86400}&c={now}&d=7")
    since_1970 = sign_raw(main.api_secret, f"a={main.api_key}&b={now + 600}&c=0&d=7")
    for sign in (ten_years, since_1970):
        assert_error(post(server, sign=sign), 403, "AUTHENTICATION_ERROR")


def test_quota(server: Server) -> None:
    assert_error(post(server, key="quota"), 400, "IMAGE_ERROR_UNSUPPORTED_FORMAT: image")  # the one call
    assert_error(post(server, key="quota"), 403, "AUTHORIZATION_ERROR:Limit reached.", request_id=False)
    # a request refused before the engine is not counted, and authentication still comes first
    assert_error(post(server, key="quota", return_portrait="x"), 400, "BAD_ARGUMENTS: return_portrait")


def test_concurrency_limit(server: Server) -> None:
    assert_error(post(server, key="conc"), 403, "CONCURRENCY_LIMIT_EXCEEDED")


def test_not_found(server: Server) -> None:
    for method, path in (("POST", "/faceid/v5/other"), ("GET", "/"), ("PUT", "/x"), ("DELETE", "/healthz")):
        response = httpx.request(method, server.url + path)
        assert_error(response, 404, "API_NOT_FOUND", request_id=False)
    get = httpx.get(server.endpoint)
    assert_error(get, 404, "API_NOT_FOUND", request_id=False)
    assert get.headers["allow"] == "POST"


def test_form_that_is_not_multipart_never_gives_422(server: Server) -> None:
    response = httpx.post(server.endpoint, json={"sign": "x"})
    assert_error(response, 400, "MISSING_ARGUMENTS: sign")
    broken = httpx.post(
        server.endpoint,
        content=b'--b\r\nContent-Disposition: form-data; name="sign"\r\n\r\nx',
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert broken.status_code in (400, 403) and broken.json()["error"]


def _assert_413(response: httpx.Response) -> None:
    assert response.status_code == 413
    assert response.text == "Request Entity Too Large"
    assert response.headers["content-type"].startswith("text/plain")


def test_body_over_the_limit_is_refused_from_content_length(server: Server) -> None:
    _assert_413(post(server, image=b"\xff\xd8" + b"\0" * (15 * MiB)))


def test_image_over_10_mb_is_refused(server: Server) -> None:
    _assert_413(post(server, image=b"\xff\xd8" + b"\0" * (10 * MiB + 10)))


def test_streamed_body_is_counted_not_buffered(server: Server) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'
        block = b"\0" * MiB
        for _ in range(20):
            yield block

    try:
        response = httpx.post(
            server.endpoint, content=chunks(), headers={"content-type": "multipart/form-data; boundary=b"}, timeout=60
        )
    except httpx.TransportError:  # the server may close the connection while we are still sending
        return
    _assert_413(response)


def test_metrics_count_errors(server: Server) -> None:
    post(server, drop=("sign",))
    text = httpx.get(server.url + "/metrics").text
    assert 'hmtocr_requests_total{error="MISSING_ARGUMENTS",status="400"}' in text
    assert "hmtocr_request_seconds_bucket" in text
