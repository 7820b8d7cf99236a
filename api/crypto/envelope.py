"""One side's pair of operations, and the framing of files and text fields.

- A file (the request image, the response portrait): only its first 1024 bytes (all of it if shorter)
  are encrypted; the payload is `Base64( ciphertext || remaining plaintext || uint32_le(len(ciphertext)) )`.
- A text field: `Base64( ciphertext of its UTF-8 bytes )`; an empty field stays "" (nothing to hide).
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.crypto.errors import CryptoError
from api.crypto.rsa import (
    rsa_decrypt,
    rsa_encrypt,
    rsa_generate,
    rsa_private_from_pem,
    rsa_private_to_pem,
    rsa_public_from_pem,
    rsa_public_to_pem,
)
from api.crypto.sm2 import (
    sm2_decrypt,
    sm2_encrypt,
    sm2_generate,
    sm2_private_from_pem,
    sm2_private_to_pem,
    sm2_public_from_pem,
    sm2_public_to_pem,
)

FILE_HEAD_BYTES = 1024
ENCRYPTION_NONE, ENCRYPTION_SM2, ENCRYPTION_RSA = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CipherPair:
    """`encrypt` with the peer's public key, `decrypt` with our private key (server or client side)."""

    encryption_type: int
    encrypt: Callable[[bytes], bytes]
    decrypt: Callable[[bytes], bytes]


def sm2_pair(own_private_pem: bytes | str, peer_public_pem: bytes | str) -> CipherPair:
    private, public = sm2_private_from_pem(own_private_pem), sm2_public_from_pem(peer_public_pem)
    return CipherPair(ENCRYPTION_SM2, lambda data: sm2_encrypt(public, data), lambda data: sm2_decrypt(private, data))


def rsa_pair(own_private_pem: bytes, peer_public_pem: bytes) -> CipherPair:
    private, public = rsa_private_from_pem(own_private_pem), rsa_public_from_pem(peer_public_pem)
    return CipherPair(ENCRYPTION_RSA, lambda data: rsa_encrypt(public, data), lambda data: rsa_decrypt(private, data))


def load_pair(encryption_type: int, own_private_path: Path, peer_public_path: Path) -> CipherPair:
    try:
        own, peer = own_private_path.read_bytes(), peer_public_path.read_bytes()
    except OSError as exc:
        raise CryptoError(f"cannot read key file ({exc.strerror})") from exc
    if encryption_type == ENCRYPTION_SM2:
        return sm2_pair(own, peer)
    if encryption_type == ENCRYPTION_RSA:
        return rsa_pair(own, peer)
    raise CryptoError(f"unknown encryption type {encryption_type}")


def b64decode_tolerant(data: bytes | str) -> bytes:
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CryptoError("not base64") from exc


def encrypt_file(data: bytes, encrypt: Callable[[bytes], bytes]) -> str:
    if not data:
        raise CryptoError("nothing to encrypt")
    ciphertext = encrypt(data[:FILE_HEAD_BYTES])
    blob = ciphertext + data[FILE_HEAD_BYTES:] + struct.pack("<I", len(ciphertext))
    return base64.b64encode(blob).decode("ascii")


def decrypt_file(payload: bytes | str, decrypt: Callable[[bytes], bytes]) -> bytes:
    blob = b64decode_tolerant(payload)
    if len(blob) < 5:
        raise CryptoError("encrypted file too short")
    (n,) = struct.unpack("<I", blob[-4:])
    if not 0 < n <= len(blob) - 4:
        raise CryptoError("encrypted file: bad ciphertext length")
    return decrypt(blob[:n]) + blob[n:-4]


def encrypt_text(text: str, encrypt: Callable[[bytes], bytes]) -> str:
    return base64.b64encode(encrypt(text.encode("utf-8"))).decode("ascii") if text else ""


def decrypt_text(payload: str, decrypt: Callable[[bytes], bytes]) -> str:
    if not payload:
        return ""
    try:
        return decrypt(b64decode_tolerant(payload)).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CryptoError("decrypted text is not UTF-8") from exc


def generate_key_files(encryption_type: int, directory: Path, stem: str) -> tuple[Path, Path]:
    """Writes `<stem>.key` (private, 0600) and `<stem>.pub` for SM2 or RSA; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    if encryption_type == ENCRYPTION_SM2:
        sm2_priv = sm2_generate()
        private_pem, public_pem = sm2_private_to_pem(sm2_priv), sm2_public_to_pem(sm2_priv.public_key())
    elif encryption_type == ENCRYPTION_RSA:
        rsa_priv = rsa_generate()
        private_pem, public_pem = rsa_private_to_pem(rsa_priv), rsa_public_to_pem(rsa_priv.public_key())
    else:
        raise CryptoError(f"unknown encryption type {encryption_type}")
    private_path, public_path = directory / f"{stem}.key", directory / f"{stem}.pub"
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(private_pem)
    public_path.write_text(public_pem, encoding="ascii")
    return private_path, public_path


def _map_field_results(
    body: dict[str, Any], text_fn: Callable[[str], str], portrait_fn: Callable[[str], str]
) -> dict[str, Any]:
    from api.wire import ENCRYPTED_WIRE_FIELDS

    out = dict(body)
    for name in ENCRYPTED_WIRE_FIELDS:
        value = out.get(name)
        if isinstance(value, dict) and isinstance(value.get("result"), str):
            fn = portrait_fn if name == "portrait" else text_fn
            out[name] = {**value, "result": fn(value["result"])}
    return out


def encrypt_response_fields(body: dict[str, Any], encrypt: Callable[[bytes], bytes]) -> dict[str, Any]:
    """A copy of a wire body with the listed fields' `result` encrypted for the client.

    Text fields become Base64(ciphertext of the UTF-8 text); the portrait (a JPG) uses the file
    framing applied to the JPG bytes.
    """
    return _map_field_results(
        body,
        lambda text: encrypt_text(text, encrypt),
        lambda b64: encrypt_file(b64decode_tolerant(b64), encrypt) if b64 else "",
    )


def decrypt_response_fields(body: dict[str, Any], decrypt: Callable[[bytes], bytes]) -> dict[str, Any]:
    """Inverse of `encrypt_response_fields` (the client side); the portrait comes back as JPG Base64."""
    return _map_field_results(
        body,
        lambda payload: decrypt_text(payload, decrypt),
        lambda payload: base64.b64encode(decrypt_file(payload, decrypt)).decode("ascii") if payload else "",
    )
