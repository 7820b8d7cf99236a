"""Broken forms name the argument at fault (or none), never `image` by default; uploads stay in memory."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_server import Server
from test_api_http import assert_error
from test_api_inprocess import ENDPOINT, form, run_with_client

from api.app import Service
from api.auth import build_sign
from engine.errors import CardNotFoundError
from engine.types import CardResult, RecognizeOptions

MiB = 1024 * 1024


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return b"--b\r\nContent-Disposition: " + disposition.encode() + b"\r\n\r\n" + value + b"\r\n"


def _multipart(server: Server, body: bytes, content_type: str = "multipart/form-data; boundary=b") -> httpx.Response:
    return httpx.post(server.endpoint, content=body, headers={"content-type": content_type}, timeout=60)


def _signed_parts(server: Server) -> bytes:
    main = server.keys["main"]
    return _part("sign", build_sign(main.api_key, main.api_secret).encode()) + _part("sign_version", b"hmac_sha1")


@pytest.mark.parametrize(
    ("case", "build"),
    [
        ("1000 fields", lambda s: b"".join(_part(f"f{i}", b"1") for i in range(1000)) + b"--b--\r\n"),
        ("10 files", lambda s: b"".join(_part("image", b"x", f"{i}.jpg") for i in range(10)) + b"--b--\r\n"),
        ("a huge field name", lambda s: _part("n" * 100_000, b"1") + b"--b--\r\n"),
        ("huge part headers", lambda s: b"--b\r\nX-Pad: " + b"p" * 100_000 + b"\r\n\r\nx\r\n--b--\r\n"),
        ("no name", lambda s: b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--\r\n"),
    ],
)
def test_broken_forms_say_bad_arguments_alone(server: Server, case: str, build: Any) -> None:
    assert_error(_multipart(server, _signed_parts(server) + build(server)), 400, "BAD_ARGUMENTS")


@pytest.mark.parametrize(
    "content_type",
    ["multipart/form-data", "multipart/form-data; boundary=", 'multipart/form-data; boundary=""'],
)
def test_a_missing_boundary_says_bad_arguments(server: Server, content_type: str) -> None:
    assert_error(_multipart(server, _signed_parts(server), content_type), 400, "BAD_ARGUMENTS")


def test_a_body_framed_by_another_boundary_says_bad_arguments(server: Server) -> None:
    body = _signed_parts(server).replace(b"--b\r\n", b"--c\r\n")
    assert_error(_multipart(server, body), 400, "BAD_ARGUMENTS")


def test_non_utf8_bytes_in_fields_answer_vendor_errors(server: Server) -> None:
    body = _part("sign", b"\xff\xfe\x80sign") + _part("sign_version", b"hmac_sha1")
    body += _part("image", b"\xff", "\xe9.jpg")
    assert_error(_multipart(server, body + b"--b--\r\n"), 403, "AUTHENTICATION_ERROR")
    body = _signed_parts(server) + _part("return_portrait", b"\xc3\x28") + _part("image", b"\x89", "a.jpg")
    assert_error(_multipart(server, body + b"--b--\r\n"), 400, "BAD_ARGUMENTS: return_portrait")


class SizeEngine:
    """Records the image it was given, and finds no card."""

    name = "size"

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def recognize(self, image_bytes: bytes, options: RecognizeOptions) -> CardResult:
        self.sizes.append(len(image_bytes))
        raise CardNotFoundError("none")


def test_uploads_are_never_spooled_to_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Starlette spooled a file part over 1 MiB to a temporary file; the service writes no image to disk."""

    def no_disk(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an upload was spooled to a temporary file")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_disk)
    monkeypatch.setattr(tempfile, "NamedTemporaryFile", no_disk)
    engine = SizeEngine()
    image = b"\xff\xd8" + bytes(9 * MiB)

    async def body(client: httpx.AsyncClient, _: Service) -> httpx.Response:
        return await client.post(ENDPOINT, data=form(), files={"image": ("a.jpg", image, "image/jpeg")})

    response = run_with_client(tmp_path, body, engine=engine)
    assert response.status_code == 400 and response.json()["error"] == "ID_CARD_NOT_FOUND"
    assert engine.sizes == [len(image)]
