"""SM2 public-key encryption (GB/T 32918.4, curve sm2p256v1, OID 1.2.156.10197.1.301) on Tongsuo.

The curve arithmetic, the one-time number k (drawn from Tongsuo's CSPRNG), the KDF, the C3 check (in
constant time) and the check that C1 is a point of the curve all happen inside Tongsuo (`tongsuopy`'s
bundled library, the maintained OpenSSL fork with SM2). What is ours: the key files and the strict
parsing of the ciphertext before Tongsuo sees it.

Ciphertext: ASN.1 DER `SEQUENCE { x INTEGER, y INTEGER, C3 OCTET STRING (SM3, 32 bytes), C2 OCTET STRING }`
(GM/T 0009), as Tongsuo and `openssl pkeyutl` write it. Key files:
- public key: PEM `PUBLIC KEY` (SubjectPublicKeyInfo, id-ecPublicKey + the SM2 curve OID, uncompressed
  point 04||x||y), as `openssl pkey -pubout` writes it;
- private key: PEM `PRIVATE KEY` (PKCS#8 wrapping an ECPrivateKey, as `openssl genpkey -algorithm SM2`
  writes it) or `EC PRIVATE KEY` (SEC 1). Encrypted PEM is not supported.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from tongsuopy.crypto.asymciphers import ec

from api.crypto.der import (
    TAG_BIT_STRING,
    TAG_OCTET_STRING,
    TAG_OID,
    TAG_SEQUENCE,
    der_children,
    der_integer,
    der_oid,
    der_read_sequence,
    der_sequence,
    der_tlv,
    der_uint,
    pem_decode,
    pem_encode,
)
from api.crypto.errors import CryptoError

OID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
OID_SM2 = "1.2.156.10197.1.301"
# The order n of the base point (GB/T 32918.5): a private key d lies in [1, n - 2].
CURVE_ORDER = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)
C3_BYTES = 32
_SM2_ALGORITHM = der_sequence(der_oid(OID_EC_PUBLIC_KEY), der_oid(OID_SM2))


@dataclass(frozen=True, slots=True)
class Sm2PublicKey:
    x: int
    y: int
    _key: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            key = ec.EllipticCurvePublicNumbers(self.x, self.y, ec.SM2()).public_key()
        except ValueError as exc:
            raise CryptoError("SM2: public key is not a point of the curve") from exc
        object.__setattr__(self, "_key", key)


@dataclass(frozen=True, slots=True)
class Sm2PrivateKey:
    d: int
    _key: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 1 <= self.d < CURVE_ORDER - 1:
            raise CryptoError("SM2: private key out of range")
        object.__setattr__(self, "_key", ec.derive_private_key(self.d, ec.SM2()))

    def __repr__(self) -> str:  # never print d
        return "Sm2PrivateKey(<secret>)"

    def public_key(self) -> Sm2PublicKey:
        numbers = self._key.public_key().public_numbers()
        return Sm2PublicKey(numbers.x, numbers.y)


def sm2_generate() -> Sm2PrivateKey:
    return Sm2PrivateKey(secrets.randbelow(CURVE_ORDER - 2) + 1)


def _evp(operation: str, pkey: Any, data: bytes) -> bytes:
    """Tongsuo's EVP_PKEY_encrypt / EVP_PKEY_decrypt on an SM2 key (None: the library refused)."""
    backend = pkey._backend
    lib, ffi = backend._lib, backend._ffi
    init, run = getattr(lib, f"EVP_PKEY_{operation}_init"), getattr(lib, f"EVP_PKEY_{operation}")
    ctx = lib.EVP_PKEY_CTX_new(pkey._evp_pkey, ffi.NULL)
    if ctx == ffi.NULL:
        backend._consume_errors()
        raise CryptoError(f"SM2: cannot {operation}")
    ctx = ffi.gc(ctx, lib.EVP_PKEY_CTX_free)
    size = ffi.new("size_t *")
    if init(ctx) != 1 or run(ctx, ffi.NULL, size, data, len(data)) != 1:
        backend._consume_errors()
        raise CryptoError(f"SM2: cannot {operation}")
    out = ffi.new("unsigned char[]", max(1, size[0]))
    if run(ctx, out, size, data, len(data)) != 1:
        backend._consume_errors()
        raise CryptoError(f"SM2: {operation} failed (wrong key or damaged ciphertext)")
    return bytes(ffi.buffer(out, size[0]))


def sm2_encrypt(public: Sm2PublicKey, plaintext: bytes) -> bytes:
    """DER `SEQUENCE {x, y, C3, C2}` of the SM2 encryption of `plaintext` (non-empty), k fresh each time."""
    if not plaintext:
        raise CryptoError("SM2: nothing to encrypt")
    return _evp("encrypt", public._key, plaintext)


def sm2_parse_ciphertext(der: bytes) -> tuple[int, int, bytes, bytes]:
    items = der_read_sequence(der)
    if len(items) != 4:
        raise CryptoError("SM2: ciphertext needs x, y, C3, C2")
    x, y = der_uint(*items[0]), der_uint(*items[1])
    (t3, c3), (t2, c2) = items[2], items[3]
    if t3 != TAG_OCTET_STRING or t2 != TAG_OCTET_STRING or len(c3) != C3_BYTES or not c2:
        raise CryptoError("SM2: C3 must be 32 bytes and C2 non-empty OCTET STRINGs")
    return x, y, c3, c2


def sm2_decrypt(private: Sm2PrivateKey, der: bytes) -> bytes:
    x, y, c3, c2 = sm2_parse_ciphertext(der)
    Sm2PublicKey(x, y)  # C1 must be a point of the curve before any scalar multiplication with d
    canonical = der_sequence(
        der_integer(x), der_integer(y), der_tlv(TAG_OCTET_STRING, c3), der_tlv(TAG_OCTET_STRING, c2)
    )
    return _evp("decrypt", private._key, canonical)


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
