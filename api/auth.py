"""The vendor's `sign` (sign_version=hmac_sha1): build it (client) and verify it (server).

    raw  = "a=<api_key>&b=<expire_time>&c=<current_time>&d=<random>"
    sign = Base64( HMAC_SHA1(api_secret, raw).digest() || raw )

`b` and `c` are Unix seconds (milliseconds are accepted: a value above 10^11 is divided by 1000);
`b = 0` makes a single-use sign, refused when replayed; any other sign may live at most
`max_lifetime_s` (b - c). Verification is pure apart from the `seen_single_use` callback, which the
service backs with SQLite.

An unknown key is not told apart from a wrong digest: the digest is checked, in constant time,
against a random secret of this process for a key we do not know, so both answer
AUTHENTICATION_ERROR and key ids cannot be probed without a secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

DIGEST_BYTES = 20
_MS_THRESHOLD = 10**11  # seconds stay below this until the year 5138
_MAX_RAW_BYTES = 512
DEFAULT_MAX_LIFETIME_S = 30 * 86400
# Stands in for an unknown key's secret, so that key costs the same HMAC and comparison as a known one.
_UNKNOWN_KEY_SECRET = secrets.token_urlsafe(32)


class SignError(Exception):
    """The sign is malformed, wrong, expired or replayed (403 AUTHENTICATION_ERROR)."""


@dataclass(frozen=True, slots=True)
class SignParts:
    api_key: str
    expire_s: int  # 0: single use
    current_s: int
    random: str
    raw: bytes
    digest: bytes


def build_raw(api_key: str, expire_s: int, current_s: int, random: int) -> str:
    return f"a={api_key}&b={expire_s}&c={current_s}&d={random}"


def build_sign(
    api_key: str,
    api_secret: str,
    *,
    valid_s: int = 600,
    now_s: int | None = None,
    single_use: bool = False,
    random: int | None = None,
) -> str:
    """A sign valid for `valid_s` seconds from now (or single-use with `b=0`)."""
    now = int(time.time()) if now_s is None else now_s
    rand = secrets.randbelow(10**10) if random is None else random
    raw = build_raw(api_key, 0 if single_use else now + valid_s, now, rand)
    return sign_raw(api_secret, raw)


def sign_raw(api_secret: str, raw: str) -> str:
    raw_bytes = raw.encode("utf-8")
    digest = hmac.new(api_secret.encode("utf-8"), raw_bytes, hashlib.sha1).digest()
    return base64.b64encode(digest + raw_bytes).decode("ascii")


def _seconds(text: str, name: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise SignError(f"{name} is not a decimal timestamp")
    value = int(text)
    return value // 1000 if value >= _MS_THRESHOLD else value


def parse_sign(sign: str) -> SignParts:
    """Decodes and splits a sign; checks its form only (not the digest, not the times)."""
    compact = "".join(sign.split())
    try:
        blob = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignError("sign is not base64") from exc
    if len(blob) <= DIGEST_BYTES or len(blob) > DIGEST_BYTES + _MAX_RAW_BYTES:
        raise SignError("sign has the wrong length")
    digest, raw = blob[:DIGEST_BYTES], blob[DIGEST_BYTES:]
    try:
        text = raw.decode("ascii")
    except UnicodeDecodeError as exc:
        raise SignError("sign text is not ASCII") from exc
    values: dict[str, str] = {}
    for item in text.split("&"):
        name, sep, value = item.partition("=")
        if not sep or name in values:
            raise SignError("sign text is malformed")
        values[name] = value
    if set(values) != {"a", "b", "c", "d"}:
        raise SignError("sign text needs exactly a, b, c, d")
    rand = values["d"]
    if not (rand.isascii() and rand.isdigit() and len(rand) <= 10):
        raise SignError("d is not an unsigned decimal of at most 10 digits")
    if not values["a"]:
        raise SignError("a (api_key) is empty")
    return SignParts(
        api_key=values["a"],
        expire_s=_seconds(values["b"], "b"),
        current_s=_seconds(values["c"], "c"),
        random=rand,
        raw=raw,
        digest=digest,
    )


def verify_sign(
    sign: str,
    secret_for: Callable[[str], str | None],
    *,
    now_s: float,
    clock_skew_s: int = 300,
    single_use_max_age_s: int = 86400,
    max_lifetime_s: int = DEFAULT_MAX_LIFETIME_S,
    seen_single_use: Callable[[SignParts], bool] | None = None,
) -> SignParts:
    """The parts of a valid sign of a known key; raises `SignError` (an unknown key included).

    `seen_single_use(parts)` records a `b=0` sign and says whether it was recorded before; it is
    called only once the digest and the times are good, so garbage cannot fill the store.
    A single-use sign must be used within `single_use_max_age_s` of its `c`, which bounds the store.
    """
    parts = parse_sign(sign)
    secret = secret_for(parts.api_key)
    expected = hmac.new((secret or _UNKNOWN_KEY_SECRET).encode("utf-8"), parts.raw, hashlib.sha1).digest()
    if not hmac.compare_digest(expected, parts.digest) or secret is None:
        raise SignError("digest mismatch")
    if parts.current_s > now_s + clock_skew_s:
        raise SignError("c is in the future")
    if parts.expire_s == 0:
        if now_s - parts.current_s > single_use_max_age_s:
            raise SignError("single-use sign too old")
        if seen_single_use is not None and seen_single_use(parts):
            raise SignError("single-use sign replayed")
    elif now_s > parts.expire_s:
        raise SignError("sign expired")
    elif parts.expire_s - parts.current_s > max_lifetime_s:
        raise SignError("sign lives too long")
    return parts
