"""Transport encryption (`encryption_type`): 1 = SM2, 2 = RSA.

Request: the client encrypts `image` with the server's public key. Response: the server encrypts the
`result` of the listed fields with the client's public key.

Framing
- A file (the request image, the response portrait): only its first 1024 bytes (all of it if shorter)
  are encrypted; the payload is `Base64( ciphertext || remaining plaintext || uint32_le(len(ciphertext)) )`.
- A text field: `Base64( ciphertext of its UTF-8 bytes )`; an empty field stays "" (nothing to hide).

SM2 (GB/T 32918.4, curve sm2p256v1, OID 1.2.156.10197.1.301): ciphertext is ASN.1 DER
`SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING (SM3, 32 bytes), C2 OCTET STRING }` (GM/T 0009).
gmssl computes the raw C1C3C2 bytes; the DER framing, the PEM key formats and the decryption (with
the C3 check gmssl leaves out, and a check that C1 is on the curve) are done here. Key files:
- public key: PEM `PUBLIC KEY` (SubjectPublicKeyInfo, id-ecPublicKey + the SM2 curve OID,
  uncompressed point 04||x||y), as `openssl pkey -pubout` writes it;
- private key: PEM `PRIVATE KEY` (PKCS#8 wrapping an ECPrivateKey, as `openssl genpkey -algorithm SM2`
  writes it) or `EC PRIVATE KEY` (SEC 1). Encrypted PEM is not supported.

RSA (the vendor does not say; our choice): RSAES-OAEP with SHA-256 (MGF1-SHA-256, no label) from
`cryptography`. Data longer than one block (k - 66 bytes, 190 for RSA-2048) is cut into chunks
encrypted one by one; the ciphertext is the blocks (k bytes each) one after the other. Keys are
standard PEM (`PUBLIC KEY` / `PRIVATE KEY` or `RSA PRIVATE KEY`, unencrypted).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from gmssl import sm3
from gmssl.sm2 import CryptSM2, default_ecc_table

FILE_HEAD_BYTES = 1024
ENCRYPTION_NONE, ENCRYPTION_SM2, ENCRYPTION_RSA = 0, 1, 2


class CryptoError(ValueError):
    """Ciphertext, framing or key cannot be processed; the message names what (no secret in it)."""


# ---------------------------------------------------------------------------------------------------
# A minimal DER codec (definite lengths only; what SM2 ciphertexts and key files need)

TAG_INTEGER, TAG_BIT_STRING, TAG_OCTET_STRING, TAG_NULL, TAG_OID, TAG_SEQUENCE = 0x02, 0x03, 0x04, 0x05, 0x06, 0x30


def der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def der_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + der_length(len(content)) + content


def der_integer(value: int) -> bytes:
    if value < 0:
        raise CryptoError("negative integers are not used here")
    body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    if body[0] & 0x80:
        body = b"\x00" + body
    return der_tlv(TAG_INTEGER, body)


def der_sequence(*items: bytes) -> bytes:
    return der_tlv(TAG_SEQUENCE, b"".join(items))


def der_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return der_tlv(TAG_OID, bytes(out))


def der_read(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """(tag, content, offset after the element) of the element starting at `offset`."""
    if offset + 2 > len(data):
        raise CryptoError("DER: truncated")
    tag, first = data[offset], data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n == 0 or n > 4 or pos + n > len(data):
            raise CryptoError("DER: bad length")
        length = int.from_bytes(data[pos : pos + n], "big")
        pos += n
    if pos + length > len(data):
        raise CryptoError("DER: truncated")
    return tag, data[pos : pos + length], pos + length


def der_children(content: bytes) -> list[tuple[int, bytes]]:
    items: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(content):
        tag, value, pos = der_read(content, pos)
        items.append((tag, value))
    return items


def der_read_sequence(data: bytes) -> list[tuple[int, bytes]]:
    tag, content, end = der_read(data)
    if tag != TAG_SEQUENCE or end != len(data):
        raise CryptoError("DER: expected one SEQUENCE")
    return der_children(content)


def der_uint(tag: int, content: bytes) -> int:
    if tag != TAG_INTEGER or not content:
        raise CryptoError("DER: expected an INTEGER")
    if content[0] & 0x80:
        raise CryptoError("DER: negative INTEGER")
    return int.from_bytes(content, "big")


# ---------------------------------------------------------------------------------------------------
# PEM


def pem_decode(text: str | bytes, labels: tuple[str, ...]) -> tuple[str, bytes]:
    s = text.decode("ascii", "replace") if isinstance(text, bytes) else text
    for label in labels:
        begin, end = f"-----BEGIN {label}-----", f"-----END {label}-----"
        i = s.find(begin)
        if i < 0:
            continue
        j = s.find(end, i)
        if j < 0:
            raise CryptoError(f"PEM: no END line for {label}")
        try:
            return label, base64.b64decode("".join(s[i + len(begin) : j].split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CryptoError(f"PEM: {label} body is not base64") from exc
    raise CryptoError(f"PEM: expected one of {', '.join(labels)}")


def pem_encode(label: str, der: bytes) -> str:
    b64 = base64.b64encode(der).decode("ascii")
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


# ---------------------------------------------------------------------------------------------------
# SM2

OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_SM2 = "1.2.156.10197.1.301"
_P = int(default_ecc_table["p"], 16)
_A = int(default_ecc_table["a"], 16)
_B = int(default_ecc_table["b"], 16)
_N = int(default_ecc_table["n"], 16)
_SM2_ALGORITHM = der_sequence(der_oid(OID_EC_PUBLIC_KEY), der_oid(OID_SM2))


@dataclass(frozen=True, slots=True)
class Sm2PublicKey:
    x: int
    y: int

    def __post_init__(self) -> None:
        if not _on_curve(self.x, self.y):
            raise CryptoError("SM2: public key is not a point of the curve")

    @property
    def hex(self) -> str:
        return f"{self.x:064x}{self.y:064x}"


@dataclass(frozen=True, slots=True)
class Sm2PrivateKey:
    d: int

    def __post_init__(self) -> None:
        if not 1 <= self.d < _N - 1:
            raise CryptoError("SM2: private key out of range")

    def public_key(self) -> Sm2PublicKey:
        xy = _sm2(None)._kg(self.d, default_ecc_table["g"])
        return Sm2PublicKey(int(xy[:64], 16), int(xy[64:128], 16))


def _on_curve(x: int, y: int) -> bool:
    return 0 <= x < _P and 0 <= y < _P and (y * y - (x * x * x + _A * x + _B)) % _P == 0


def _sm2(public: Sm2PublicKey | None) -> CryptSM2:
    c = CryptSM2(private_key="", public_key="00" * 64, mode=1)
    # Set after construction: gmssl's constructor lstrip("04")s the key and would eat leading digits.
    c.public_key = public.hex if public is not None else ""
    return c


def sm2_generate() -> Sm2PrivateKey:
    return Sm2PrivateKey(secrets.randbelow(_N - 2) + 1)


def sm2_encrypt(public: Sm2PublicKey, plaintext: bytes) -> bytes:
    """DER `SEQUENCE {x, y, C3, C2}` of the SM2 encryption of `plaintext` (non-empty)."""
    if not plaintext:
        raise CryptoError("SM2: nothing to encrypt")
    raw = _sm2(public).encrypt(plaintext)
    if raw is None:  # the key stream came out all zero: astronomically rare, gmssl gives up
        raw = _sm2(public).encrypt(plaintext)
    c1x, c1y, c3, c2 = raw[:32], raw[32:64], raw[64:96], raw[96:]
    return der_sequence(
        der_integer(int.from_bytes(c1x, "big")),
        der_integer(int.from_bytes(c1y, "big")),
        der_tlv(TAG_OCTET_STRING, c3),
        der_tlv(TAG_OCTET_STRING, c2),
    )


def sm2_parse_ciphertext(der: bytes) -> tuple[int, int, bytes, bytes]:
    items = der_read_sequence(der)
    if len(items) != 4:
        raise CryptoError("SM2: ciphertext needs x, y, C3, C2")
    x, y = der_uint(*items[0]), der_uint(*items[1])
    (t3, c3), (t2, c2) = items[2], items[3]
    if t3 != TAG_OCTET_STRING or t2 != TAG_OCTET_STRING or len(c3) != 32 or not c2:
        raise CryptoError("SM2: C3 must be 32 bytes and C2 non-empty OCTET STRINGs")
    return x, y, c3, c2


def sm2_decrypt(private: Sm2PrivateKey, der: bytes) -> bytes:
    x, y, c3, c2 = sm2_parse_ciphertext(der)
    if not _on_curve(x, y):
        raise CryptoError("SM2: C1 is not a point of the curve")
    xy = _sm2(None)._kg(private.d, f"{x:064x}{y:064x}")
    x2, y2 = bytes.fromhex(xy[:64]), bytes.fromhex(xy[64:128])
    stream = bytes.fromhex(sm3.sm3_kdf(xy.encode("ascii"), len(c2)))
    if not any(stream):
        raise CryptoError("SM2: degenerate key stream")
    message = bytes(a ^ b for a, b in zip(c2, stream, strict=True))
    check = bytes.fromhex(sm3.sm3_hash(list(x2 + message + y2)))
    if not hmac.compare_digest(check, c3):
        raise CryptoError("SM2: C3 does not match (wrong key or damaged ciphertext)")
    return message


def sm2_public_to_pem(public: Sm2PublicKey) -> str:
    point = b"\x04" + public.x.to_bytes(32, "big") + public.y.to_bytes(32, "big")
    return pem_encode("PUBLIC KEY", der_sequence(_SM2_ALGORITHM, der_tlv(TAG_BIT_STRING, b"\x00" + point)))


def sm2_private_to_pem(private: Sm2PrivateKey) -> str:
    ec_private = der_sequence(der_integer(1), der_tlv(TAG_OCTET_STRING, private.d.to_bytes(32, "big")))
    pkcs8 = der_sequence(der_integer(0), _SM2_ALGORITHM, der_tlv(TAG_OCTET_STRING, ec_private))
    return pem_encode("PRIVATE KEY", pkcs8)


def _check_sm2_algorithm(tag: int, content: bytes) -> None:
    if tag != TAG_SEQUENCE:
        raise CryptoError("SM2 key: expected an AlgorithmIdentifier")
    oids = [value for t, value in der_children(content) if t == TAG_OID]
    if der_oid(OID_EC_PUBLIC_KEY)[2:] not in oids and der_oid(OID_SM2)[2:] not in oids:
        raise CryptoError("SM2 key: not an EC/SM2 key")
    if len(oids) > 1 and der_oid(OID_SM2)[2:] not in oids:
        raise CryptoError("SM2 key: the curve is not SM2")


def sm2_public_from_pem(text: str | bytes) -> Sm2PublicKey:
    _, der = pem_decode(text, ("PUBLIC KEY",))
    items = der_read_sequence(der)
    if len(items) != 2 or items[1][0] != TAG_BIT_STRING:
        raise CryptoError("SM2 public key: expected SubjectPublicKeyInfo")
    _check_sm2_algorithm(*items[0])
    bits = items[1][1]
    if len(bits) != 66 or bits[0] != 0 or bits[1] != 0x04:
        raise CryptoError("SM2 public key: expected an uncompressed point")
    return Sm2PublicKey(int.from_bytes(bits[2:34], "big"), int.from_bytes(bits[34:66], "big"))


def _ec_private_key(der: bytes) -> Sm2PrivateKey:
    items = der_read_sequence(der)
    if len(items) < 2 or der_uint(*items[0]) != 1 or items[1][0] != TAG_OCTET_STRING:
        raise CryptoError("SM2 private key: expected an ECPrivateKey")
    return Sm2PrivateKey(int.from_bytes(items[1][1], "big"))


def sm2_private_from_pem(text: str | bytes) -> Sm2PrivateKey:
    label, der = pem_decode(text, ("PRIVATE KEY", "EC PRIVATE KEY"))
    if label == "EC PRIVATE KEY":
        return _ec_private_key(der)
    items = der_read_sequence(der)
    if len(items) < 3 or der_uint(*items[0]) != 0 or items[2][0] != TAG_OCTET_STRING:
        raise CryptoError("SM2 private key: expected PKCS#8")
    _check_sm2_algorithm(*items[1])
    return _ec_private_key(items[2][1])


# ---------------------------------------------------------------------------------------------------
# RSA (OAEP-SHA256, chunked)


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def rsa_encrypt(public: rsa.RSAPublicKey, plaintext: bytes) -> bytes:
    k = public.key_size // 8
    chunk = k - 2 * 32 - 2
    if not plaintext:
        raise CryptoError("RSA: nothing to encrypt")
    return b"".join(public.encrypt(plaintext[i : i + chunk], _oaep()) for i in range(0, len(plaintext), chunk))


def rsa_decrypt(private: rsa.RSAPrivateKey, ciphertext: bytes) -> bytes:
    k = private.key_size // 8
    if not ciphertext or len(ciphertext) % k:
        raise CryptoError("RSA: ciphertext is not a whole number of blocks")
    try:
        return b"".join(private.decrypt(ciphertext[i : i + k], _oaep()) for i in range(0, len(ciphertext), k))
    except ValueError as exc:
        raise CryptoError("RSA: decryption failed (wrong key or damaged ciphertext)") from exc


def rsa_public_from_pem(text: bytes) -> rsa.RSAPublicKey:
    try:
        key = serialization.load_pem_public_key(text)
    except ValueError as exc:
        raise CryptoError("RSA public key: cannot parse PEM") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise CryptoError("RSA public key: not an RSA key")
    return key


def rsa_private_from_pem(text: bytes) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(text, password=None)
    except (ValueError, TypeError) as exc:
        raise CryptoError("RSA private key: cannot parse PEM (unencrypted PEM expected)") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CryptoError("RSA private key: not an RSA key")
    return key


def rsa_generate(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def rsa_private_to_pem(private: rsa.RSAPrivateKey) -> str:
    return private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode("ascii")


def rsa_public_to_pem(public: rsa.RSAPublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(
        "ascii"
    )


# ---------------------------------------------------------------------------------------------------
# One side's pair of operations, and the framing


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
    import os

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
