"""Hypothesis on every parser of client input: each returns its value or raises its own error, never
anything else (an unexpected exception would be a 500)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncGenerator
from typing import Any

from fuzz_support import bounded
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from api.app import parse_exception_range
from api.auth import SignError, parse_sign, sign_raw, verify_sign
from api.errors import ApiError
from api.form import parse_form
from api.wire import WireFormatError, parse_wire_response

SECRETS = {"k": "s"}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=30,
)
SIGN_TEXT = st.builds(
    lambda a, b, c, d, extra: f"a={a}&b={b}&c={c}&d={d}{extra}",
    st.sampled_from(["k", "", "x" * 40, "k&a=k"]),
    st.one_of(st.integers(-10, 10**14).map(str), st.text(max_size=8)),
    st.one_of(st.integers(-10, 10**14).map(str), st.text(max_size=8)),
    st.one_of(st.integers(0, 10**11).map(str), st.text(max_size=12)),
    st.sampled_from(["", "&e=1", "&", "=", "&a=z"]),
)


@given(st.one_of(st.text(max_size=300), st.binary(max_size=200).map(lambda b: base64.b64encode(b).decode())))
@bounded(400)
def test_parse_sign_only_raises_sign_error(text: str) -> None:
    with contextlib.suppress(SignError):
        parse_sign(text)


@given(SIGN_TEXT, st.sampled_from(["s", "wrong"]), st.integers(0, 2 * 10**9))
@bounded(400)
def test_verify_sign_only_raises_sign_error(raw: str, secret: str, now_s: int) -> None:
    try:
        parts = verify_sign(sign_raw(secret, raw), SECRETS.get, now_s=now_s, seen_single_use=lambda p: False)
    except SignError:
        return
    assert secret == "s" and parts.api_key == "k"  # a wrong secret or an unknown key never passes


@given(st.one_of(st.text(max_size=200), JSON_VALUES.map(json.dumps)))
@bounded(400)
def test_exception_range_only_raises_bad_arguments(text: str) -> None:
    try:
        parse_exception_range(text)
    except ApiError as err:
        assert err.error == "BAD_ARGUMENTS: exception_range"


@given(JSON_VALUES)
@bounded(400)
def test_wire_parser_only_raises_wire_format_error(body: Any) -> None:
    with contextlib.suppress(WireFormatError):
        parse_wire_response(body)


def _part(name: bytes, value: bytes, filename: bytes | None) -> bytes:
    disposition = b'form-data; name="' + name + b'"' + (b'; filename="' + filename + b'"' if filename else b"")
    return b"--B\r\nContent-Disposition: " + disposition + b"\r\n\r\n" + value + b"\r\n"


PARTS = st.lists(
    st.tuples(
        st.one_of(st.sampled_from([b"sign", b"image", b"sign_version"]), st.binary(max_size=80)),
        st.binary(max_size=300),
        st.one_of(st.none(), st.binary(max_size=20)),
    ),
    max_size=40,
)


async def _chunks(body: bytes, cuts: list[int]) -> AsyncGenerator[bytes, None]:
    last = 0
    for cut in sorted(c % (len(body) + 1) for c in cuts):
        yield body[last:cut]
        last = cut
    yield body[last:]


@given(
    PARTS,
    st.sampled_from([b"", b"--B--\r\n", b"--B", b"\r\n--B--garbage"]),
    st.lists(st.integers(0, 10**6), max_size=5),
    st.sampled_from(["multipart/form-data; boundary=B", "multipart/form-data", "application/x-www-form-urlencoded",
                     "multipart/form-data; boundary=B; charset=latin-1", "multipart/form-data; boundary=\"B\"", ""]),
    st.binary(max_size=64),
)
@bounded(400)
def test_multipart_parser_only_raises_vendor_errors(
    parts: list[tuple[bytes, bytes, bytes | None]], tail: bytes, cuts: list[int], content_type: str, noise: bytes
) -> None:
    body = b"".join(_part(*p) for p in parts) + tail + noise
    headers = Headers({"content-type": content_type})
    try:
        form = asyncio.run(parse_form(headers, _chunks(body, cuts), max_bytes=1 << 20))
    except ApiError as err:
        assert err.status == 400 and err.error.startswith("BAD_ARGUMENTS")
        return
    assert len(form) <= 36
    asyncio.run(form.close())
