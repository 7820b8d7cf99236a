"""RSA (the vendor does not say; our choice): RSAES-OAEP with SHA-256 (MGF1-SHA-256, no label) from
`cryptography`. Data longer than one block (k - 66 bytes, 190 for RSA-2048) is cut into chunks encrypted
one by one; the ciphertext is the blocks (k bytes each) one after the other. Keys are standard PEM
(`PUBLIC KEY` / `PRIVATE KEY` or `RSA PRIVATE KEY`, unencrypted)."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from api.crypto.errors import CryptoError


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
