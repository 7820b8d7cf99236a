"""DER codec, SM2 (interoperable with OpenSSL), RSA-OAEP chunks, file framing, field encryption."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest

from api import crypto
from api.crypto import CryptoError

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.mark.parametrize("value", [0, 1, 127, 128, 255, 256, 2**255, 2**256 - 1])
def test_der_integer_round_trip(value: int) -> None:
    tag, content, _end = crypto.der_read(crypto.der_integer(value))
    assert tag == crypto.TAG_INTEGER and crypto.der_uint(tag, content) == value
    assert content[0] != 0 or len(content) == 1 or content[1] & 0x80  # minimal encoding


@pytest.mark.parametrize("n", [0, 1, 127, 128, 255, 256, 1100, 70000])
def test_der_length_round_trip(n: int) -> None:
    tlv = crypto.der_tlv(crypto.TAG_OCTET_STRING, b"x" * n)
    tag, content, end = crypto.der_read(tlv)
    assert (tag, len(content), end) == (crypto.TAG_OCTET_STRING, n, len(tlv))


def test_der_oid() -> None:
    assert crypto.der_oid("1.2.840.10045.2.1").hex() == "06072a8648ce3d0201"
    assert crypto.der_oid("1.2.156.10197.1.301").hex() == "06082a811ccf5501822d"


@pytest.mark.parametrize("junk", [b"", b"\x30", b"\x30\x05\x02\x01", b"\x30\x84\xff\xff\xff\xff", b"\x02\x01\x01"])
def test_der_junk(junk: bytes) -> None:
    with pytest.raises(CryptoError):
        crypto.der_read_sequence(junk)


def test_sm2_decrypts_openssl_ciphertext() -> None:
    private = crypto.sm2_private_from_pem((FIXTURES / "openssl-sm2.key").read_bytes())
    der = (FIXTURES / "openssl-sm2-ciphertext.der").read_bytes()
    assert crypto.sm2_decrypt(private, der) == (FIXTURES / "openssl-sm2-plaintext.txt").read_bytes()


def test_sm2_keys_match_openssl_public_key() -> None:
    private = crypto.sm2_private_from_pem((FIXTURES / "openssl-sm2.key").read_bytes())
    public = crypto.sm2_public_from_pem((FIXTURES / "openssl-sm2.pub").read_bytes())
    assert private.public_key() == public
    # and our PEM writers give what OpenSSL wrote
    assert crypto.sm2_public_to_pem(public) == (FIXTURES / "openssl-sm2.pub").read_text()


def test_sm2_round_trip_and_der_shape() -> None:
    private = crypto.sm2_generate()
    public = crypto.sm2_public_from_pem(crypto.sm2_public_to_pem(private.public_key()))
    again = crypto.sm2_private_from_pem(crypto.sm2_private_to_pem(private))
    der = crypto.sm2_encrypt(public, "港澳台居民居住证".encode())
    _x, _y, c3, c2 = crypto.sm2_parse_ciphertext(der)
    assert len(c3) == 32 and len(c2) == len("港澳台居民居住证".encode())
    assert crypto.sm2_decrypt(again, der).decode() == "港澳台居民居住证"


def test_sm2_wrong_key_and_tampering_are_detected() -> None:
    a, b = crypto.sm2_generate(), crypto.sm2_generate()
    der = crypto.sm2_encrypt(a.public_key(), b"secret")
    with pytest.raises(CryptoError):
        crypto.sm2_decrypt(b, der)
    x, y, c3, c2 = crypto.sm2_parse_ciphertext(der)
    tampered = crypto.der_sequence(
        crypto.der_integer(x),
        crypto.der_integer(y),
        crypto.der_tlv(4, c3),
        crypto.der_tlv(4, bytes([c2[0] ^ 1]) + c2[1:]),
    )
    with pytest.raises(CryptoError, match="wrong key or damaged"):
        crypto.sm2_decrypt(a, tampered)
    off_curve = crypto.der_sequence(
        crypto.der_integer(1), crypto.der_integer(2), crypto.der_tlv(4, c3), crypto.der_tlv(4, c2)
    )
    with pytest.raises(CryptoError, match="curve"):
        crypto.sm2_decrypt(a, off_curve)


def test_sm2_ec_private_key_pem() -> None:
    private = crypto.sm2_generate()
    sec1 = crypto.der_sequence(crypto.der_integer(1), crypto.der_tlv(4, private.d.to_bytes(32, "big")))
    assert crypto.sm2_private_from_pem(crypto.pem_encode("EC PRIVATE KEY", sec1)) == private


def test_rsa_chunked_oaep() -> None:
    private = crypto.rsa_generate(2048)
    data = bytes(range(256)) * 4  # 1024 bytes: 6 chunks of at most 190
    ct = crypto.rsa_encrypt(private.public_key(), data)
    assert len(ct) == 6 * 256
    assert crypto.rsa_decrypt(private, ct) == data
    with pytest.raises(CryptoError):
        crypto.rsa_decrypt(private, ct[:-1])
    with pytest.raises(CryptoError):
        crypto.rsa_decrypt(crypto.rsa_generate(2048), ct)


@pytest.mark.parametrize("size", [1, 1023, 1024, 1025, 5000])
def test_file_framing(size: int) -> None:
    data = bytes((i * 7) % 256 for i in range(size))
    payload = crypto.encrypt_file(data, lambda b: b[::-1] + b"!")
    blob = base64.b64decode(payload)
    head = min(size, 1024)
    assert struct.unpack("<I", blob[-4:])[0] == head + 1
    assert blob[head + 1 : -4] == data[1024:]
    assert crypto.decrypt_file(payload, lambda b: b[:-1][::-1]) == data
    wrapped = "\n".join(payload[i : i + 76] for i in range(0, len(payload), 76))
    assert crypto.decrypt_file(wrapped, lambda b: b[:-1][::-1]) == data


@pytest.mark.parametrize(
    "junk", ["", "!!", base64.b64encode(b"abcd\xff\xff\xff\x7f").decode(), base64.b64encode(b"\0\0\0\0").decode()]
)
def test_file_framing_junk(junk: str) -> None:
    with pytest.raises(CryptoError):
        crypto.decrypt_file(junk, lambda b: b)


def test_response_fields_round_trip_both_schemes() -> None:
    from wire_cards import back_card, front_card

    from api.wire import card_result_to_wire

    for scheme in (1, 2):
        if scheme == 1:
            server_priv, client_priv = crypto.sm2_generate(), crypto.sm2_generate()
            server = crypto.sm2_pair(
                crypto.sm2_private_to_pem(server_priv), crypto.sm2_public_to_pem(client_priv.public_key())
            )
            client = crypto.sm2_pair(
                crypto.sm2_private_to_pem(client_priv), crypto.sm2_public_to_pem(server_priv.public_key())
            )
        else:
            s, c = crypto.rsa_generate(), crypto.rsa_generate()
            server = crypto.rsa_pair(
                crypto.rsa_private_to_pem(s).encode(), crypto.rsa_public_to_pem(c.public_key()).encode()
            )
            client = crypto.rsa_pair(
                crypto.rsa_private_to_pem(c).encode(), crypto.rsa_public_to_pem(s.public_key()).encode()
            )
        for card in (front_card(), back_card()):
            body = card_result_to_wire(card, request_id="1,x", time_used_ms=1, return_portrait=True)
            sealed = crypto.encrypt_response_fields(body, server.encrypt)
            for name in ("name", "idcard_number", "portrait", "eep_number", "epp_number", "hmt_issue_count"):
                if name in body:
                    assert sealed[name]["result"] != body[name]["result"]
                    assert sealed[name]["quality"] == body[name]["quality"]
            assert crypto.decrypt_response_fields(sealed, client.decrypt) == body


# GB/T 32918.5-2017 (and GM/T 0003.5), the encryption example on the recommended curve sm2p256v1.
KAT_D = int("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8", 16)
KAT_PUBLIC = (
    int("09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020", 16),
    int("CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13", 16),
)
KAT_K = int("59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21", 16)
KAT_C1 = (
    int("04EBFC718E8D1798620432268E77FEB6415E2EDE0E073C0F4F640ECD2E149A73", 16),
    int("E858F9D81E5430A57B36DAAB8F950A3C64E6EE6A63094D99283AFF767E124DF0", 16),
)
KAT_C3 = bytes.fromhex("59983C18F809E262923C53AEC295D30383B54E39D609D160AFCB1908D0BD8766")
KAT_C2 = bytes.fromhex("21886CA989CA9C7D58087307CA93092D651EFA")
KAT_MESSAGE = b"encryption standard"


def _kat_ciphertext() -> bytes:
    return crypto.der_sequence(
        crypto.der_integer(KAT_C1[0]),
        crypto.der_integer(KAT_C1[1]),
        crypto.der_tlv(4, KAT_C3),
        crypto.der_tlv(4, KAT_C2),
    )


def test_sm2_known_answer_key_and_nonce_point() -> None:
    public = crypto.Sm2PrivateKey(KAT_D).public_key()
    assert (public.x, public.y) == KAT_PUBLIC
    c1 = crypto.Sm2PrivateKey(KAT_K).public_key()  # C1 = [k]G
    assert (c1.x, c1.y) == KAT_C1


def test_sm2_known_answer_decryption() -> None:
    assert crypto.sm2_decrypt(crypto.Sm2PrivateKey(KAT_D), _kat_ciphertext()) == KAT_MESSAGE
    damaged = crypto.der_sequence(
        crypto.der_integer(KAT_C1[0]),
        crypto.der_integer(KAT_C1[1]),
        crypto.der_tlv(4, bytes([KAT_C3[0] ^ 0x80]) + KAT_C3[1:]),
        crypto.der_tlv(4, KAT_C2),
    )
    with pytest.raises(CryptoError):
        crypto.sm2_decrypt(crypto.Sm2PrivateKey(KAT_D), damaged)


def test_sm2_encryptions_of_the_same_plaintext_differ() -> None:
    public = crypto.Sm2PrivateKey(KAT_D).public_key()
    ciphertexts = {crypto.sm2_encrypt(public, KAT_MESSAGE) for _ in range(8)}
    assert len(ciphertexts) == 8
    points = {crypto.sm2_parse_ciphertext(c)[:2] for c in ciphertexts}
    assert len(points) == 8  # a fresh k, hence a fresh C1, every time
    assert all(crypto.sm2_decrypt(crypto.Sm2PrivateKey(KAT_D), c) == KAT_MESSAGE for c in ciphertexts)


def test_sm2_nonce_is_not_drawn_from_a_seeded_random() -> None:
    # gmssl drew k from Python's Mersenne Twister: seeding `random` reproduced k, and with it the key stream.
    import random

    public = crypto.Sm2PrivateKey(KAT_D).public_key()
    random.seed(20261207)
    first = crypto.sm2_encrypt(public, KAT_MESSAGE)
    random.seed(20261207)
    second = crypto.sm2_encrypt(public, KAT_MESSAGE)
    assert crypto.sm2_parse_ciphertext(first)[:2] != crypto.sm2_parse_ciphertext(second)[:2]
    for seed in range(50):  # nor is C1 any [k]G for a k that Mersenne Twister gives after a small seed
        random.seed(seed)
        k = random.randint(1, crypto.sm2.CURVE_ORDER - 1)
        guess = crypto.Sm2PrivateKey(k).public_key()
        assert (guess.x, guess.y) != crypto.sm2_parse_ciphertext(first)[:2]
