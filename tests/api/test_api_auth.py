"""Sign building and verification (NOTES.md test vector, expiry, skew, single use, milliseconds)."""

from __future__ import annotations

import base64

import pytest

from api.auth import SignError, build_sign, parse_sign, sign_raw, verify_sign

SECRET = "UjYGdN9CBZKsDBLB5-5v3DykPXY6dw3q"
KEY = "ICVvC_xUs6177WEtyUNwIH8J6NfGu50t"
NOW = 1_700_000_000
RAW = "a=ICVvC_xUs6177WEtyUNwIH8J6NfGu50t&b=1530762218&c=1530762118&d=0799687066"
VECTOR = (
    "SPzLRbDBgTGC2A8YdDaa7Jrny+5hPUlDVnZDX3hVczYxNzdXRXR5VU53SUg4SjZOZkd1NTB0JmI9MTUzMDc2MjIxOCZj"
    "PTE1MzA3NjIxMTgmZD0wNzk5Njg3MDY2"
)


def secrets_of(key: str) -> str | None:
    return {KEY: SECRET, "k": "s"}.get(key)


def test_vector_is_built() -> None:
    assert sign_raw(SECRET, RAW) == VECTOR


def test_vector_verifies_within_its_window() -> None:
    parts = verify_sign(VECTOR, secrets_of, now_s=1530762200)
    assert (parts.api_key, parts.expire_s, parts.current_s, parts.random) == (KEY, 1530762218, 1530762118, "0799687066")


def test_vector_with_whitespace_and_line_breaks() -> None:
    wrapped = "\n".join(VECTOR[i : i + 20] for i in range(0, len(VECTOR), 20)) + " \r\n"
    assert verify_sign(wrapped, secrets_of, now_s=1530762218).api_key == KEY


@pytest.mark.parametrize(
    ("now", "ok"),
    [(1530762118, True), (1530762218, True), (1530762219, False), (1530762118 - 300, True), (1530762118 - 301, False)],
)
def test_expiry_and_clock_skew(now: int, ok: bool) -> None:
    if ok:
        verify_sign(VECTOR, secrets_of, now_s=now, clock_skew_s=300)
    else:
        with pytest.raises(SignError):
            verify_sign(VECTOR, secrets_of, now_s=now, clock_skew_s=300)


def test_wrong_secret_and_tampering() -> None:
    with pytest.raises(SignError):
        verify_sign(VECTOR, lambda k: "other", now_s=1530762200)
    blob = bytearray(base64.b64decode(VECTOR))
    blob[-1] ^= 1  # change d
    with pytest.raises(SignError):
        verify_sign(base64.b64encode(bytes(blob)).decode(), secrets_of, now_s=1530762200)


def test_unknown_key_is_not_told_from_a_wrong_digest() -> None:
    """Telling them apart let anyone find key ids without a secret (AUTHORIZATION_ERROR vs AUTHENTICATION_ERROR)."""
    errors = []
    for sign in (build_sign("nobody", "s", now_s=100), build_sign(KEY, "wrong", now_s=100)):
        with pytest.raises(SignError) as caught:
            verify_sign(sign, secrets_of, now_s=100)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


@pytest.mark.parametrize(
    ("expire_s", "current_s", "accepted"),
    [
        (NOW + 30 * 86400, NOW, True),  # the longest the default allows
        (NOW + 30 * 86400 + 1, NOW, False),
        (NOW + 10 * 365 * 86400, NOW, False),  # ten years
        (NOW + 600, 0, False),  # made at c=0: valid "since 1970"
    ],
)
def test_sign_lifetime_is_bounded(expire_s: int, current_s: int, accepted: bool) -> None:
    sign = sign_raw(SECRET, f"a={KEY}&b={expire_s}&c={current_s}&d=1")
    if accepted:
        assert verify_sign(sign, secrets_of, now_s=NOW + 1).expire_s == expire_s
    else:
        with pytest.raises(SignError):
            verify_sign(sign, secrets_of, now_s=NOW + 1)


def test_single_use_is_refused_on_replay() -> None:
    seen: set[bytes] = set()

    def seen_before(parts: object) -> bool:
        raw = parts.raw  # type: ignore[attr-defined]
        if raw in seen:
            return True
        seen.add(raw)
        return False

    sign = build_sign("k", "s", now_s=1000, single_use=True, random=7)
    assert parse_sign(sign).expire_s == 0
    verify_sign(sign, secrets_of, now_s=1000, seen_single_use=seen_before)
    with pytest.raises(SignError, match="replayed"):
        verify_sign(sign, secrets_of, now_s=1001, seen_single_use=seen_before)
    with pytest.raises(SignError, match="too old"):
        verify_sign(build_sign("k", "s", now_s=1000, single_use=True), secrets_of, now_s=1000 + 86401)


def test_milliseconds_are_accepted() -> None:
    sign = sign_raw("s", "a=k&b=1530762218000&c=1530762118123&d=1")
    parts = verify_sign(sign, secrets_of, now_s=1530762200)
    assert (parts.expire_s, parts.current_s) == (1530762218, 1530762118)


@pytest.mark.parametrize(
    "sign",
    [
        "", "!!!!", base64.b64encode(b"x" * 20).decode(), base64.b64encode(b"x" * 20 + b"a=k&b=1&c=1").decode(),
        base64.b64encode(b"x" * 20 + b"a=k&b=1&c=1&d=12345678901").decode(),
        base64.b64encode(b"x" * 20 + b"a=k&b=-1&c=1&d=1").decode(),
        base64.b64encode(b"x" * 20 + b"a=k&a=k&b=1&c=1&d=1").decode(),
        base64.b64encode(b"x" * 20 + "a=\u00e9&b=1&c=1&d=1".encode()).decode(),
        base64.b64encode(b"x" * 600).decode(),
    ],
)
def test_malformed_signs(sign: str) -> None:
    with pytest.raises(SignError):
        verify_sign(sign, secrets_of, now_s=1)
